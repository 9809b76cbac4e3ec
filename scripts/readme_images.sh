#!/usr/bin/env bash
# Regenerate the pictures in README.md (docs/images/) from trained models under $AECLI_HOME.
# Needs: trained vae, cvae and ae (see README), and ../shared/data for the test images.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
out=$here/docs/images
mkdir -p "$out"
aecli sample vae -n 64 --seed 0 -o "$out/vae_samples.png"
aecli reconstruct vae -n 16 -o "$out/vae_reconstructions.png"
aecli interpolate vae -n 10 -o "$out/vae_interpolation.png"
aecli generate cvae --digit all -n 10 --seed 3 -o "$out/cvae_digits.png"
aecli tsne vae cvae -n 5000 -o "$out/tsne_vae_vs_cvae.png"
aecli reconstruct ae -n 16 -o "$out/ae_reconstructions.png"
aecli sample ae -n 32 --seed 0 -o "$out/ae_samples.png"
aecli sample ae -n 32 --seed 0 --naive -o "$out/ae_samples_naive.png"
aecli smile ae -n 8 --steps 6 -o "$out/smile.png"
