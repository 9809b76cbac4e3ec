#!/usr/bin/env bash
# Reproduce the README's evaluation table from scratch: train each model, evaluate it, print the table.
# Usage: examples/evaluation_report.sh MNIST_FOLDER LFW_FOLDER
#   (about 2 hours on 2 CPU cores: the k = 5000 NLL on all 10,000 test images takes about one of them)
set -euo pipefail
mnist=${1:?give the folder with the four MNIST .gz files}
lfw=${2:?give the folder with the LFW tree and lfw_attributes.txt}
out=${OUT:-evaluation-report}
mkdir -p "$out"
export AECLI_HOME="$out/home"  # a home of its own: the runs below are the newest there

# the likelihood recipe: a decoder twice as wide, 70 epochs (18 minutes on 2 cores; docs/evaluation.md)
aecli train vae --binarize --data-dir "$mnist" --width 16 --epochs 70 --seed 0 --json > "$out/train_vae.json"
aecli eval vae --json > "$out/eval_vae_binarized.json"             # k = 5000 on binarized MNIST
aecli train cvae --data-dir "$mnist" --epochs 10 --seed 0 --json > "$out/train_cvae.json"
aecli eval cvae --json > "$out/eval_cvae.json"                     # GAN-test, CAS, classifier FID
aecli train ae --data-dir "$lfw" --epochs 30 --seed 0 --json > "$out/train_ae.json"
aecli eval ae --json > "$out/eval_ae.json"                         # PSNR, SSIM, PCA floor, smile edit
python "$(dirname "$0")/evaluation_table.py" "$out"
