"""scikit-learn's 1,797 bundled 8x8 digits, brought to MNIST's 28x28 layout."""

import numpy as np
import torch

from aecli.data.base import Dataset, DataSpec, Split

TEST_FRACTION = 0.2


def load_digits_28() -> Dataset:
    from skimage.transform import resize
    from sklearn.datasets import load_digits

    bunch = load_digits()
    small = bunch.images / 16.0
    # MNIST digits fill a 20x20 box centred in 28x28.
    big = resize(small, (len(small), 20, 20), order=1, anti_aliasing=False)
    images = np.zeros((len(small), 1, 28, 28), dtype=np.uint8)
    images[:, 0, 4:24, 4:24] = np.clip(big * 255 + 0.5, 0, 255).astype(np.uint8)
    labels = bunch.target.astype(np.int64)
    order = np.random.default_rng(0).permutation(len(images))
    n_test = int(len(images) * TEST_FRACTION)
    test, train = order[:n_test], order[n_test:]
    spec = DataSpec(name="digits", channels=1, image_size=28, num_classes=10)

    def split(index: np.ndarray) -> Split:
        return Split(torch.from_numpy(images[index]), torch.from_numpy(labels[index]))

    return Dataset(spec, split(train), split(test))
