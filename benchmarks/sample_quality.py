"""Classifier FID of a model's prior samples by temperature, and the floor its decoder sets, for
MNIST models trained on the same seed (each `aecli train MODEL` with the given options) or runs
already trained (`--run NAME=PATH`; `bundled` is the vae or cvae that ships with aecli).

    python benchmarks/sample_quality.py --data-dir MNIST_DIR [--model cvae]  # the variants below
    python benchmarks/sample_quality.py --data-dir MNIST_DIR --run "bundled=bundled"
    python benchmarks/sample_quality.py --model cvae --variant "w32 30=--width 32 --epochs 30"

FID is aecli's (`aecli eval` computes the same at `--temperature T`): 10,000 samples, seed 0, the
judge's features against MNIST's training split; the real test set scores about 1.06. The floor
is the FID of images decoded from the encoder's own distribution for 10,000 training images (what
a perfect prior would draw at temperature 1), and of their means (the reconstructions): no prior
or temperature brings the samples below it. Trained variants are kept in OUT/NAME.json as the NLL
anchors are; run it alone on the machine.
"""

import sys
from pathlib import Path

from common import cpu_model, kept_variant, real_mnist, table, train_variant, variant_parser

WIDE_CVAE = "--width 32 --latent-dim 16 --prior-components 200"
VARIANTS = {  # model -> name -> options of `aecli train MODEL` on grey levels: the bundles before and after
    "vae": {
        "width 8, 20 epochs (the bundle before)": "--epochs 20 --batch-size 64 --lr 3e-3",
        "width 16, 70 epochs": "--width 16 --epochs 70",
        "width 16, 100 epochs": "--width 16 --epochs 100",
        "width 32, 50 epochs (the bundle)": "--width 32 --epochs 50",
    },
    "cvae": {
        "width 16, 10 epochs (the bundle before)": "--epochs 10",
        "width 32, one prior for every digit, 25 epochs": WIDE_CVAE + " --epochs 25",
        "width 32, a prior per digit, 25 epochs": WIDE_CVAE + " --class-prior 1 --epochs 25",
        "width 32, a prior per digit, 40 epochs (the bundle)": WIDE_CVAE + " --class-prior 1 --epochs 40",
    },
}
TEMPERATURES = (0.6, 0.7, 0.8, 0.9, 1.0)
FLOOR_IMAGES = 10_000


def decoder_floor(model, data, judge) -> tuple[float, float]:
    """FID of images decoded from q(z|x) of training images: from a draw of each, and from its mean."""
    import torch

    from aecli.evaluate.sample_quality import classifier_fid
    from aecli.inference import decode

    images = data.train.images[:FLOOR_IMAGES].float() / 255
    labels = model.labels_for(data.train.labels[:FLOOR_IMAGES]) if model.takes_class else None
    with torch.no_grad():
        mu, logvar = model.encode_distribution(images, labels)
        torch.manual_seed(0)  # the draw the model's own reparameterization makes, seeded
        drawn = model.reparameterize(mu, logvar)
        return classifier_fid(judge, decode(model, drawn, labels)), classifier_fid(judge, decode(model, mu, labels))


def measure(model_name: str, checkpoint, data_dir: Path) -> dict:
    from aecli import api
    from aecli.data import Reporter
    from aecli.data.recorded import recorded_data
    from aecli.evaluate.judge import load_judge
    from aecli.evaluate.sample_quality import classifier_fid, generated_images

    ckpt = api.load(model_name, checkpoint, device="cpu")
    model = ckpt.model.eval()
    data = recorded_data(ckpt, data_dir, Reporter())
    judge = load_judge(data)
    fid = {str(t): round(classifier_fid(judge, generated_images(model, 10_000, 0, t)[0]), 2) for t in TEMPERATURES}
    drawn, means = decoder_floor(model, data, judge)
    return {"fid": fid, "floor_drawn": round(drawn, 2), "floor_means": round(means, 2)}


def trained(model: str, name: str, options: str, data_dir: Path, seed: int, out: Path) -> dict:
    def trained_and_scored(run: Path) -> dict:
        seconds = train_variant(model, options, data_dir, seed, run)
        return {"train_seconds": round(seconds, 1), **measure(model, run, data_dir)}

    return kept_variant(out, name, {"model": model, "options": options, "seed": seed}, trained_and_scored)


def main() -> None:
    parser = variant_parser(__doc__, "sample-quality")
    parser.add_argument("--model", default="vae", help="vae, cvae or betavae")
    parser.add_argument("--run", action="append", help="'NAME=CHECKPOINT' already trained (no variants then)")
    args = parser.parse_args()
    data_dir = real_mnist(args.data_dir, "the judge's features are of real MNIST")
    rows = []
    if args.run:
        for name, checkpoint in (r.split("=", 1) for r in args.run):
            result = measure(args.model, checkpoint, data_dir)
            rows.append([name, "(trained)", "", *result["fid"].values(), result["floor_drawn"], result["floor_means"]])
    else:
        args.out.mkdir(parents=True, exist_ok=True)
        variants = dict(v.split("=", 1) for v in args.variant) if args.variant else VARIANTS.get(args.model)
        if not variants:
            sys.exit(f"no built-in variants of {args.model}: give --variant NAME=OPTIONS or --run NAME=CHECKPOINT")
        for name, options in variants.items():
            result = trained(args.model, name, options, data_dir, args.seed, args.out)
            fid, seconds = result["fid"].values(), f"{result['train_seconds']:,.0f}"
            rows.append([name, options, seconds, *fid, result["floor_drawn"], result["floor_means"]])
    print(f"\n# classifier FID of 10,000 {args.model} prior samples by temperature, seed {args.seed}; {cpu_model()}")
    headers = ["variant", f"train {args.model}", "train s", *(f"T {t}" for t in TEMPERATURES), "floor", "means"]
    print(table(headers, rows))


if __name__ == "__main__":
    main()
