#!/usr/bin/env bash
# The VAE experiment end to end: train, sample, reconstruct, t-SNE, eval.
# Usage: examples/vae_mnist.sh [MNIST_FOLDER]   (no folder: the bundled `digits` set, no download)
set -euo pipefail
out=${OUT:-vae-results}
mkdir -p "$out"
if [[ $# -ge 1 ]]; then
  data=(--data-dir "$1"); epochs=${EPOCHS:-20}
else
  data=(--dataset digits); epochs=${EPOCHS:-30}
fi
aecli train vae "${data[@]}" --epochs "$epochs" --json | tee "$out/train.json"
aecli sample vae -n 64 --seed 0 -o "$out/samples.png"
aecli reconstruct vae -n 16 -o "$out/reconstructions.png"
aecli interpolate vae -n 10 -o "$out/interpolation.png"
aecli tsne vae -n 5000 -o "$out/tsne.png"
aecli eval vae --json | tee "$out/eval.json"
