"""Binarized MNIST test NLL of VAE variants, each trained on the same seed and scored on the same
protocol (the importance-weighted bound of Burda et al. 2016 on a fixed binarization of the test
images), beside the published anchors. Every variant is `aecli train vae --binarize` with the given
options; its seconds are the whole training command's (start-up and per-epoch test scoring included).

    python benchmarks/nll_anchors.py --data-dir MNIST_DIR                       # the variants below
    python benchmarks/nll_anchors.py --data-dir MNIST_DIR --variant "w16 70=--width 16 --epochs 70"
    python benchmarks/nll_anchors.py --data-dir MNIST_DIR -k 5000 --test-images 0   # all 10,000 (slow)

Each finished variant's figures are kept in OUT/NAME.json, so a second run only scores what is new
(delete the file to measure again). Run it alone on the machine: it trains one model per variant.
"""

from pathlib import Path

from common import cpu_model, kept_variant, real_mnist, table, train_variant, variant_parser

VARIANTS = {  # name -> options of `aecli train vae --binarize`: one change from the default each, then two
    "default, 20 epochs": "--epochs 20",
    "IWAE bound, 5 samples": "--epochs 20 --iwae-samples 5",
    "decoder twice as wide": "--epochs 20 --width 16",
    "twice as wide, 70 epochs": "--epochs 70 --width 16",
}
# test NLL in nats, binarized MNIST, k = 5000, all 10,000 test images, one stochastic layer
PUBLISHED = [
    ("VAE (Burda et al. 2016)", 86.76),
    ("VAE + VampPrior (Tomczak and Welling 2018)", 85.57),
    ("IWAE, k = 50 (pythae's reproduction)", 84.78),
    ("PIWAE (pythae's reproduction)", 84.58),
]


def measure(name: str, options: str, data_dir: Path, seed: int, k: int, test_images: int | None, out: Path) -> dict:
    def trained_and_scored(run: Path) -> dict:
        seconds = train_variant("vae", f"--binarize {options}", data_dir, seed, run)
        from aecli import api

        report = api.evaluate(api.load("vae", run, device="cpu"), k=k, samples=False, test_images=test_images)
        return {
            "train_seconds": round(seconds, 1),
            "neg_elbo": round(report["neg_elbo"], 2),
            "nll": round(report["iwae_nll"], 2),
            "stderr": round(report["iwae_nll_stderr"], 2),
        }

    identity = {"options": options, "seed": seed, "k": k, "test_images": test_images}
    return kept_variant(out, name, identity, trained_and_scored)


def main() -> None:
    parser = variant_parser(__doc__, "nll-anchors")
    parser.add_argument("-k", type=int, default=5000, help="importance samples of the bound (the paper's 5000)")
    parser.add_argument("--test-images", type=int, default=1000, help="the first N test images (0: all 10,000)")
    args = parser.parse_args()
    data_dir = real_mnist(args.data_dir, "the NLL anchors are on real MNIST")
    variants = dict(v.split("=", 1) for v in args.variant) if args.variant else VARIANTS
    test_images = args.test_images or None
    args.out.mkdir(parents=True, exist_ok=True)
    rows = []
    for name, options in variants.items():
        result = measure(name, options, data_dir, args.seed, args.k, test_images, args.out)
        nll = f"{result['nll']:.2f} ± {result['stderr']:.2f}"
        rows.append([name, result["options"], nll, f"{result['neg_elbo']:.2f}", f"{result['train_seconds']:,.0f}"])
    images = "all 10,000" if test_images is None else f"the first {test_images:,}"
    print(f"\n# binarized MNIST, seed {args.seed}, k = {args.k}, {images} test images; {cpu_model()}")
    print(table(["variant", "train vae --binarize", "test NLL (nats)", "-ELBO", "train s"], rows))
    print("\nPublished, k = 5000 on all 10,000 test images, one stochastic layer:")
    print(table(["model", "test NLL (nats)"], [[name, f"{nll:.2f}"] for name, nll in PUBLISHED]))


if __name__ == "__main__":
    main()
