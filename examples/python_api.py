"""The VAE experiment through aecli's Python API instead of the shell.

Run: python examples/python_api.py [MNIST_FOLDER]
"""

import sys
from pathlib import Path

from aecli.checkpoint import load_checkpoint
from aecli.data import load_for_checkpoint
from aecli.evaluation import evaluate
from aecli.imaging import save_images
from aecli.ops import reconstruct, sample
from aecli.training import TrainSettings, train

data_dir = sys.argv[1] if len(sys.argv) > 1 else None
settings = TrainSettings(model="vae", dataset="mnist" if data_dir else "digits", data_dir=data_dir, epochs=5)
result = train(settings, on_progress=lambda p: None)
print("trained:", result.checkpoint, "test -ELBO", round(result.history[-1]["test_loss"], 2))

ckpt = load_checkpoint(result.run_dir, "vae")
test = load_for_checkpoint(ckpt.training).test
save_images(sample(ckpt.model, 64, seed=0, extras=ckpt.extras).numpy(), Path("api_samples.png"))
save_images(reconstruct(ckpt.model, test.images[:16]).numpy(), Path("api_reconstructions.png"))
print(evaluate(ckpt.model, test, k=10))
