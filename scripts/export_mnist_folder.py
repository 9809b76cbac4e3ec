"""Write MNIST's 70,000 digits as PNG files, one folder per digit, plus split.csv (train / test).

The same data the `mnist` adapter reads, laid out as anyone's own image folder, so that
`--dataset folder` can be checked against `--dataset mnist`.

Run: python scripts/export_mnist_folder.py ../shared/data/mnist /tmp/mnist-folder
"""

import sys
from pathlib import Path

from PIL import Image

from aecli.data import load_dataset


def main(source: str, target: str) -> None:
    data = load_dataset("mnist", source)
    root = Path(target)
    rows = ["file,split"]
    for part, split in (("train", data.train), ("test", data.test)):
        for i, (image, label) in enumerate(zip(split.images.numpy(), split.labels.tolist(), strict=True)):
            name = f"{label}/{part}-{i:05d}.png"
            (root / str(label)).mkdir(parents=True, exist_ok=True)
            Image.fromarray(image[0]).save(root / name)
            rows.append(f"{name},{part}")
    (root / "split.csv").write_text("\n".join(rows) + "\n")
    print(f"wrote {len(rows) - 1} images to {root}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
