#!/usr/bin/env bash
# Regenerate the pictures in README.md (docs/images/) from trained models.
# Usage: AE=RUN_DIR scripts/readme_images.sh [MNIST_FOLDER] [LFW_FOLDER]
#   vae and cvae: the newest runs under $AECLI_HOME, else the bundled ones;
#   AE: an ae run (default: the newest), e.g. from `aecli train ae --data-dir LFW_FOLDER --epochs 30`.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
mnist=${1:-$here/../shared/data/mnist}
lfw=${2:-$here/../shared/data/lfw}
out=$here/docs/images
ae=(${AE:+--checkpoint "$AE"})
mkdir -p "$out"
aecli sample vae -n 64 --seed 0 -o "$out/vae_samples.png"
aecli reconstruct vae -n 16 --data-dir "$mnist" -o "$out/vae_reconstructions.png"
aecli interpolate vae -n 10 --data-dir "$mnist" -o "$out/vae_interpolation.png"
aecli generate cvae --digit all -n 10 --seed 3 -o "$out/cvae_digits.png"
aecli tsne vae cvae -n 5000 --data-dir "$mnist" -o "$out/tsne_vae_vs_cvae.png"
aecli reconstruct ae "${ae[@]}" -n 16 --data-dir "$lfw" -o "$out/ae_reconstructions.png"
aecli sample ae "${ae[@]}" -n 32 --seed 0 -o "$out/ae_samples.png"
aecli sample ae "${ae[@]}" -n 32 --seed 0 --naive -o "$out/ae_samples_naive.png"
aecli smile ae "${ae[@]}" -n 8 --steps 6 --data-dir "$lfw" -o "$out/smile.png"
aecli tsne ae "${ae[@]}" --attribute Smiling --data-dir "$lfw" -o "$out/tsne_ae_smiling.png"
# put to work: 60 MNIST test digits (dark on light, as drawn) and 3 LFW faces, scored by the bundled vae
mixed=$(mktemp -d)
python - "$mixed" "$lfw" <<'PY'
import sys
from pathlib import Path

from PIL import Image

from aecli.data.sets.idx import bundled_mnist_test

folder, lfw = Path(sys.argv[1]), Path(sys.argv[2])
test = bundled_mnist_test().test
for i in range(60):
    Image.fromarray(255 - test.images[i, 0].numpy()).save(folder / f"digit_{i:02d}.png")
for face in sorted(lfw.rglob("*.jpg"))[:3]:
    Image.open(face).convert("L").save(folder / f"{face.stem}.png")
PY
aecli score vae --checkpoint bundled "$mixed" --top 5 -o "$mixed/scores.csv" -o "$out/score_worst.png"
rm -rf "$mixed"
