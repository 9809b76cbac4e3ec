"""The faces AE against eigenfaces: test PSNR and SSIM from the encoder's own codes and from codes
refined on each face, beside PCA with as many components as the latent, for AE variants trained
on the same seed (each `aecli train ae` with the given options) on the grey LFW faces.

    python benchmarks/faces_ae.py                     # the variants below, on ../shared/data/lfw
    python benchmarks/faces_ae.py --variant "4 passes=--encoder-passes 4 --epochs 30"

Every figure is what `aecli eval ae --checkpoint RUN --data-dir LFW` reports (the same
`api.evaluate`): the person split the run recorded, PCA fitted on the training faces and their
mirror images. Trained variants are kept in OUT/NAME.json and reused while their options and seed
are the same; run it alone on the machine.
"""

import sys
from pathlib import Path

from common import cpu_model, kept_variant, table, train_variant, variant_parser

LFW = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "lfw"
VARIANTS = {  # name -> options of `aecli train ae`: the default, more epochs, passes, width
    "default, 30 epochs": "--epochs 30",
    "default, 60 epochs": "--epochs 60",
    "2 encoder passes, 30 epochs": "--encoder-passes 2 --epochs 30",
    "2 encoder passes, 60 epochs": "--encoder-passes 2 --epochs 60",
    "3 encoder passes, 30 epochs": "--encoder-passes 3 --epochs 30",
    "4 encoder passes, 30 epochs": "--encoder-passes 4 --epochs 30",
    "twice as wide, 30 epochs": "--width 64 --epochs 30",
}
FIGURES = ("encoder_psnr_db", "encoder_ssim", "psnr_db", "ssim", "pca_psnr_db", "pca_ssim")


def measure(name: str, options: str, data_dir: Path, seed: int, out: Path) -> dict:
    def trained_and_evaluated(run: Path) -> dict:
        seconds = train_variant("ae", options, data_dir, seed, run)
        from aecli import api

        metrics = api.evaluate(api.load("ae", run, device="cpu"), data_dir=data_dir)
        return {"train_seconds": round(seconds, 1), **{key: round(metrics[key], 3) for key in FIGURES}}

    return kept_variant(out, name, {"options": options, "seed": seed}, trained_and_evaluated)


def main() -> None:
    parser = variant_parser(__doc__, "faces-ae", "the LFW folder aecli train ae reads")
    args = parser.parse_args()
    data_dir = args.data_dir or LFW
    if not data_dir.is_dir():
        sys.exit(f"no LFW folder at {data_dir}: give --data-dir (faces and lfw_attributes, as aecli train ae reads)")
    args.out.mkdir(parents=True, exist_ok=True)
    variants = dict(v.split("=", 1) for v in args.variant) if args.variant else VARIANTS
    rows = []
    for name, options in variants.items():
        result = measure(name, options, data_dir, args.seed, args.out)
        codes, refined = result["encoder_psnr_db"] - result["pca_psnr_db"], result["psnr_db"] - result["pca_psnr_db"]
        # decibels to 0.01 and SSIM to 0.001: the goal is a difference of 1 dB
        figures = [f"{result[key]:.2f}" if key.endswith("db") else f"{result[key]:.3f}" for key in FIGURES]
        gains = [f"{codes:+.2f}", f"{refined:+.2f}"]
        rows.append([name, options, f"{result['train_seconds']:,.0f}", *figures[:4], *gains, *figures[4:]])
    print(f"\n# the faces AE against eigenfaces (test faces, seed {args.seed}); {cpu_model()}")
    headers = ["variant", "train ae", "train s", "codes dB", "SSIM", "refined dB", "SSIM"]
    print(table(headers + ["codes - PCA", "refined - PCA", "PCA dB", "PCA SSIM"], rows))


if __name__ == "__main__":
    main()
