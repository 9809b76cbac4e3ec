#!/usr/bin/env bash
# The CVAE experiment: train, draw every digit from one style, compare latent spaces with the VAE.
# Usage: examples/cvae_mnist.sh [MNIST_FOLDER]   (no folder: the bundled `digits` set)
set -euo pipefail
out=${OUT:-cvae-results}
mkdir -p "$out"
if [[ $# -ge 1 ]]; then
  data=(--data-dir "$1"); epochs=${EPOCHS:-10}
else
  data=(--dataset digits); epochs=${EPOCHS:-30}
fi
aecli train cvae "${data[@]}" --epochs "$epochs" --json | tee "$out/train.json"
aecli generate cvae --digit all -n 10 --seed 0 -o "$out/digits.png"
aecli generate cvae --digit 7 -n 16 -o "$out/sevens.png"
aecli interpolate cvae -n 10 -o "$out/interpolation.png"
aecli train vae "${data[@]}" --epochs "$epochs" --json > "$out/train_vae.json"  # the same data, to compare
aecli tsne vae cvae -n 5000 -o "$out/compare.png" --json | tee "$out/compare.json"
aecli eval cvae --json | tee "$out/eval.json"
