"""Store the training images' score quantiles in a checkpoint written before aecli kept them (the
bundled models): python scripts/score_quantiles.py aecli/pretrained/vae --data-dir MNIST_DIR"""

import argparse
import json
from dataclasses import replace
from pathlib import Path

from aecli import api
from aecli.data.recipe import local_folder
from aecli.evaluate.anomaly import training_quantiles
from aecli.fileio import write_text_atomic


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("--data-dir", required=True)
    args = parser.parse_args()
    config_file = args.checkpoint / "config.json"
    config = json.loads(config_file.read_text(encoding="utf-8"))
    ckpt = api.load(config["model"], args.checkpoint, device="cpu")
    recipe = replace(ckpt.recipe, data_dir=local_folder(args.data_dir))
    train = api.test_data(replace(ckpt, recipe=recipe)).train
    found = training_quantiles(ckpt.model, train)
    config["training"]["score_quantiles"] = found
    write_text_atomic(config_file, json.dumps(config, indent=2))
    print(json.dumps(found))


if __name__ == "__main__":
    main()
