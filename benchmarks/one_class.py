"""One-class anomaly detection: one model per class trained on that class alone, every test image
scored, the others as anomalies. Prints the per-class AUROC table of each model's scores beside the
published rows of Ruff et al. 2018, "Deep One-Class Classification" (ICML), Table 1 (MNIST).

    python benchmarks/one_class.py --dataset mnist --data-dir MNIST_DIR --epochs 10
    python benchmarks/one_class.py --dataset fashion-mnist --data-dir FASHION_DIR --epochs 10

Run it alone on the machine: it trains 2 x 10 models.
"""

import argparse
import json
import platform
import time
from pathlib import Path

# Ruff et al. 2018, Table 1, MNIST: AUROC in % per normal digit (means of 10 seeds)
PUBLISHED = {
    "DCAE": [97.6, 98.3, 85.4, 86.7, 86.5, 78.2, 94.6, 92.3, 86.5, 90.4],
    "Deep SVDD (one-class)": [98.0, 99.7, 91.7, 91.9, 94.9, 88.5, 98.3, 94.6, 93.9, 96.5],
}
MODELS = {"ae": {"latent_dim": 32}, "vae": {}}  # the ae's code as small as DCAE's (32), the vae as it comes


def run(dataset: str, data_dir: str | None, epochs: int, seed: int, classes: list[str], out: Path) -> dict:
    from aecli import api

    results: dict = {}
    for model, options in MODELS.items():
        for name in classes:
            recipe = api.DataRecipe(dataset, data_dir, classes=(name,))
            settings = api.TrainSettings(model, recipe, epochs, seed=seed, model_options=options)
            started = time.perf_counter()
            trained = api.train(settings, device="cpu", out=out / f"{model}-{name}")
            seconds = time.perf_counter() - started
            report = api.anomaly(api.load(model, trained.run_dir, device="cpu"))
            results.setdefault(model, {})[name] = {
                "seconds": round(seconds, 1),
                **{metric: round(100 * report[metric]["auroc"], 2) for metric in report["metrics"]},
            }
            print(f"{model} normal {name}: {results[model][name]}", flush=True)
    return results


def row(name: str, values: list[float], digits: int = 1) -> str:
    shown = " | ".join(f"{v:.{digits}f}" for v in values)
    return f"| {name} | {shown} | **{sum(values) / len(values):.{digits}f}** | {min(values):.{digits}f} |"


def table(results: dict, classes: list[str], dataset: str) -> str:
    rows = [f"| normal class | {' | '.join(classes)} | mean | min |", "|---" * (len(classes) + 3) + "|"]
    for model, per_class in results.items():
        for metric in [k for k in next(iter(per_class.values())) if k != "seconds"]:
            rows.append(row(f"aecli {model} {metric}", [per_class[c][metric] for c in classes]))
        rows.append(row(f"{model} training seconds", [per_class[c]["seconds"] for c in classes], 0))
    if dataset == "mnist":
        rows += [row(f"{name} (Ruff et al. 2018)", values) for name, values in PUBLISHED.items()]
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="mnist", choices=["mnist", "fashion-mnist", "kmnist", "digits"])
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("one_class_runs"))
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()
    classes = [str(d) for d in range(10)]
    if args.dataset == "fashion-mnist":
        from aecli.data.sets.idx import SETS

        classes = list(SETS["fashion-mnist"].class_names)
    data_dir = str(Path(args.data_dir).expanduser().resolve()) if args.data_dir else None
    results = run(args.dataset, data_dir, args.epochs, args.seed, classes, args.out)
    machine = platform.processor() or platform.machine()
    print(f"\n{args.dataset}, {args.epochs} epochs per class, seed {args.seed}, {machine}")
    print(table(results, classes, args.dataset))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
