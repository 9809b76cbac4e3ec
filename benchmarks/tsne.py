"""t-SNE of 10,000 latent vectors: aecli's (openTSNE) against scikit-learn's TSNE defaults.

The vectors are the latent means of a VAE trained by aecli (the newest under $AECLI_HOME, else a
fresh 1-epoch run). Quality: sklearn's trustworthiness with 10 neighbours.
Run: python benchmarks/tsne.py
"""

import os
import tempfile

import numpy as np
from common import Timer, mnist_folder, table


def latent_vectors(n: int) -> np.ndarray:
    from aecli.data import load_dataset
    from aecli.errors import AecliError
    from aecli.evaluate.likelihood import embeddings
    from aecli.store.checkpoints import load_checkpoint
    from aecli.store.choose import find_checkpoint
    from aecli.train.loop import TrainSettings, train

    folder = mnist_folder()
    data = load_dataset("mnist", folder) if folder else load_dataset("digits")
    try:
        ckpt = load_checkpoint(find_checkpoint("vae"), "vae")
    except AecliError:
        os.environ["AECLI_HOME"] = tempfile.mkdtemp()
        settings = TrainSettings(model="vae", data=data.recipe, epochs=1, seed=0)
        ckpt = load_checkpoint(train(settings, device="cpu").run_dir, "vae")
    return embeddings(ckpt.model, data.test, n)


def main() -> None:
    from sklearn.manifold import TSNE, trustworthiness

    from aecli.evaluate.likelihood import tsne_2d

    codes = latent_vectors(10_000).astype(np.float64)
    print(f"# {len(codes)} latent vectors of size {codes.shape[1]}")
    with Timer() as ours_time:
        ours = tsne_2d(codes, seed=0)
    with Timer() as sk_time:
        theirs = TSNE(n_components=2, random_state=0).fit_transform(codes)
    t_ours = trustworthiness(codes, ours, n_neighbors=10)
    t_sk = trustworthiness(codes, theirs, n_neighbors=10)
    rows = [
        ["scikit-learn TSNE (defaults)", sk_time.seconds, 1.0, t_sk],
        ["aecli tsne (openTSNE)", ours_time.seconds, ours_time.seconds / sk_time.seconds, t_ours],
    ]
    print(table(["implementation", "seconds", "time ratio", "trustworthiness@10"], rows))
    print(f"# target: time ratio <= 0.2 and trustworthiness within 0.01 (difference {t_ours - t_sk:+.4f})")


if __name__ == "__main__":
    main()
