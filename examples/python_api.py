"""Both shell examples (vae_mnist.sh, cvae_mnist.sh) through aecli's Python API alone.

Run: python examples/python_api.py --dataset digits          (no download)
     python examples/python_api.py --data-dir ../shared/data/mnist --epochs 10
Writes the same pictures and numbers as the shell scripts into --out (default api-results/).
"""

import argparse
import json
from pathlib import Path

from aecli import api
from aecli.store.outputs import plot_embeddings, save_images


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dataset", default="mnist")
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--out", type=Path, default=Path("api-results"))
    args = parser.parse_args()
    folder = str(args.data_dir.resolve()) if args.data_dir else None
    recipe = api.DataRecipe(args.dataset, data_dir=folder)
    epochs = args.epochs or (20 if folder else 30)
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    numbers = {}

    # vae_mnist.sh: train, sample, reconstruct, interpolate, t-SNE, eval
    vae_run = api.train(api.TrainSettings(model="vae", data=recipe, epochs=epochs, seed=0), out=out / "vae-run")
    vae = api.load("vae", vae_run.run_dir)
    numbers["vae_train"] = {"test_loss": vae_run.history[-1]["test_loss"], "seed": vae_run.settings.seed}
    save_images(api.sample(vae, 64, seed=0).images, out / "samples.png")
    originals, recon = api.reconstruct(vae, 16).images
    save_images(recon, out / "reconstructions.npy")
    path = api.interpolate(vae, 10)
    save_images(path.images, out / "interpolation.png", ncols=10)
    embedded, points, data = api.compare([vae], n=5000)
    numbers["vae_tsne"] = embedded[0].scores
    panels = [{"title": "vae", "points": points[0], "labels": embedded[0].labels, "categorical": True}]
    plot_embeddings(panels, out / "tsne.png", embedded[0].legend, data.spec.class_names)
    numbers["vae_eval"] = api.evaluate(vae)

    # cvae_mnist.sh: train, every class from one style, sevens, interpolate, compare with the vae, eval
    cvae_run = api.train(api.TrainSettings(model="cvae", data=recipe, epochs=epochs, seed=0), out=out / "cvae-run")
    cvae = api.load("cvae", cvae_run.run_dir)
    rows = api.generate(cvae, api.resolve_classes(cvae, class_name="all"), 10, seed=0)
    save_images(rows.images, out / "digits.png", row_labels=rows.row_labels)
    sevens = api.generate(cvae, api.resolve_classes(cvae, digit="7"), 16, seed=0)
    save_images(sevens.images[0], out / "sevens.png")
    save_images(api.interpolate(cvae, 10).images, out / "cvae_interpolation.png", ncols=10)
    embedded, points, data = api.compare([vae, cvae], n=5000)
    numbers["compare"] = {e.model: e.scores for e in embedded}
    panels = [
        {"title": e.model, "points": p, "labels": e.labels, "categorical": True}
        for e, p in zip(embedded, points, strict=True)
    ]
    plot_embeddings(panels, out / "compare.png", embedded[0].legend, data.spec.class_names)
    numbers["cvae_eval"] = api.evaluate(cvae)

    (out / "numbers.json").write_text(json.dumps(numbers, indent=2, default=str))
    print(json.dumps({k: v for k, v in numbers.items() if k.endswith("eval")}, default=str))


if __name__ == "__main__":
    main()
