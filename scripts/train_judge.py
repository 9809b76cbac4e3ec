"""Train the MNIST judge that ships with aecli: python scripts/train_judge.py [MNIST_DIR]

Writes aecli/pretrained/mnist/judge.safetensors: the classifier's weights, the mean and
covariance of its features over the 60,000 training images (the classifier FID's reference)
and the CAS recipe's accuracy when trained on 10,000 real training images.
"""

import sys
import time
from pathlib import Path

import torch

from aecli.data import load_dataset
from aecli.evaluate.judge import BUNDLED_JUDGE, accuracy, save_judge, train_classifier


def main() -> None:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parents[1] / ".." / "shared" / "data" / "mnist"
    torch.manual_seed(0)
    data = load_dataset("mnist", folder)
    started = time.perf_counter()
    model = train_classifier(data, on_note=print)
    save_judge(model, data, BUNDLED_JUDGE)
    print(f"test accuracy {accuracy(model, data.test):.4f}; {time.perf_counter() - started:.0f} s; {BUNDLED_JUDGE}")


if __name__ == "__main__":
    main()
