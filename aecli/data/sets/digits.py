"""scikit-learn's 1,797 bundled 8x8 digits, brought to MNIST's 28x28 layout (no download)."""

import numpy as np
import torch

from aecli.data import DataRecipe, adapter
from aecli.data.base import DIGITS, Dataset, DataSpec, Reporter, Split
from aecli.data.splits import TEST_SHARE


@adapter("digits")
def load_digits_28(recipe: DataRecipe, reporter: Reporter) -> Dataset:
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
    n_test = int(len(images) * TEST_SHARE)
    test, train = order[:n_test], order[n_test:]
    spec = DataSpec(name="digits", channels=1, image_size=28, class_names=DIGITS, light_on_dark=True)

    def split(index: np.ndarray) -> Split:
        return Split(torch.from_numpy(images[index]), torch.from_numpy(labels[index]))

    return Dataset(spec, split(train), split(test))
