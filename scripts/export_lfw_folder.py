"""Lay the LFW tree of ../shared/data/lfw out as a plain image folder with a CSV attribute table.

The person folders are linked (not copied) into TARGET, and lfw_attributes_subset.txt becomes
TARGET/attributes.csv with a `file` column (`<Person>/<Person>_NNNN.jpg`), a `person` column
and the 73 numeric attribute columns, so that `--dataset folder --split-by person` reads the
same faces and split as `--dataset lfw`.

Run: python scripts/export_lfw_folder.py ../shared/data/lfw /tmp/lfw-folder
"""

import sys
from pathlib import Path

import pandas as pd


def main(source: str, target: str) -> None:
    source_dir, root = Path(source).resolve(), Path(target)
    images = source_dir / "images_gray350"
    root.mkdir(parents=True, exist_ok=True)
    for person in sorted(p for p in images.iterdir() if p.is_dir()):
        link = root / person.name
        if not link.exists():
            link.symlink_to(person, target_is_directory=True)
    text = (source_dir / "lfw_attributes_subset.txt").read_text().splitlines()
    names = text[1].split("\t")[3:]
    table = pd.DataFrame(
        [line.split("\t") for line in text[2:] if line.strip()], columns=["person", "imagenum", *names]
    )
    table["person"] = table["person"].str.replace(" ", "_")
    table.insert(
        0, "file", [f"{p}/{p}_{int(n):04d}.jpg" for p, n in zip(table["person"], table["imagenum"], strict=True)]
    )
    table = table.drop(columns=["imagenum"])
    table[names] = table[names].astype(float)
    table.to_csv(root / "attributes.csv", index=False)
    print(
        f"linked {len(list(root.iterdir())) - 1} person folders and wrote {root / 'attributes.csv'} ({len(table)} rows)"
    )


if __name__ == "__main__":
    main(*sys.argv[1:3])
