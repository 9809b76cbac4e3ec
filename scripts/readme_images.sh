#!/usr/bin/env bash
# Regenerate the pictures in README.md (docs/images/) from trained models.
# Usage: AE=RUN_DIR scripts/readme_images.sh [MNIST_FOLDER] [LFW_FOLDER]
#   vae and cvae: the newest runs under $AECLI_HOME, else the bundled ones;
#   AE: an ae run (default: the newest), e.g. from `aecli train ae --data-dir ../shared/data/lfw --crop 1 --epochs 30`.
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
