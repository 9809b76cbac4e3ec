"""The VAE experiment through aecli's Python API instead of the shell.

Run: python examples/python_api.py [MNIST_FOLDER]
"""

import sys
from pathlib import Path

from aecli import api
from aecli.outputs import save_images

data_dir = sys.argv[1] if len(sys.argv) > 1 else None
recipe = api.DataRecipe("mnist", data_dir=str(Path(data_dir).resolve())) if data_dir else api.DataRecipe("digits")
result = api.train(api.TrainSettings(model="vae", data=recipe, epochs=5, seed=0))
print("trained:", result.checkpoint, "test -ELBO", round(result.history[-1]["test_loss"], 2))

ckpt = api.load("vae", result.run_dir)
save_images(api.sample(ckpt, 64, seed=0).images, Path("api_samples.png"))
save_images(api.reconstruct(ckpt, 16).images[1], Path("api_reconstructions.png"))
print(api.evaluate(ckpt, k=10))
