"""The usual way of training the VAE, written out: the yardstick of the speed benchmarks.

The plain PyTorch-examples style: torchvision MNIST with ToTensor, a DataLoader (batch 128,
shuffled), the conv+pool VAE with 32 and 64 channels, Adam 1e-3, fp32 eager.
"""

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import torch
from common import Timer, mnist_folder
from torch import nn
from torch.nn import functional as F

NAME = "baseline (DataLoader, 32/64 ch, fp32)"


class BaselineVAE(nn.Module):
    def __init__(self, latent: int = 20):
        super().__init__()
        self.enc = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
        )
        self.mu, self.logvar = nn.Linear(64 * 49, latent), nn.Linear(64 * 49, latent)
        self.fc = nn.Linear(latent, 64 * 49)
        self.dec = nn.Sequential(
            nn.ReLU(),
            nn.Unflatten(1, (64, 7, 7)),
            nn.ConvTranspose2d(64, 32, 4, 2, 1),
            nn.ReLU(),
            nn.ConvTranspose2d(32, 1, 4, 2, 1),
        )

    def loss(self, x):
        h = self.enc(x)
        mu, logvar = self.mu(h), self.logvar(h)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        bce = F.binary_cross_entropy_with_logits(self.dec(self.fc(z)), x, reduction="sum")
        kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
        return (bce + kl) / len(x)


def real_mnist_workspace(prefix: str) -> tuple[Path, Path]:
    """Real MNIST (the baseline reads it through torchvision) and a scratch folder that is aecli's home."""
    folder = mnist_folder()
    if folder is None:
        raise SystemExit("the baseline reads real MNIST through torchvision: set AECLI_BENCH_MNIST")
    work = Path(tempfile.mkdtemp(prefix=prefix))
    os.environ["AECLI_HOME"] = str(work / "home")
    return folder, work


def torchvision_root(mnist: Path, work: Path) -> Path:
    """A torchvision MNIST root holding copies of the real .gz files (torchvision unpacks them offline)."""
    raw = work / "tv" / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for item in mnist.glob("*.gz"):
        shutil.copy(item, raw / item.name)
    return work / "tv"


def train_baseline(root: Path, epochs: int, on_epoch: Callable[[dict], None] | None = None) -> dict:
    """Train the usual way; the test -ELBO after every epoch (its time is not counted as training)."""
    from torchvision import datasets, transforms

    torch.manual_seed(0)
    train = datasets.MNIST(root, train=True, download=True, transform=transforms.ToTensor())
    test = datasets.MNIST(root, train=False, download=True, transform=transforms.ToTensor())
    loader = torch.utils.data.DataLoader(train, batch_size=128, shuffle=True)
    model = BaselineVAE()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    seconds, history = 0.0, []
    for epoch in range(1, epochs + 1):
        model.train()
        with Timer() as t:
            for x, _ in loader:
                loss = model.loss(x)
                opt.zero_grad()
                loss.backward()
                opt.step()
        seconds += t.seconds
        model.eval()
        total = 0.0
        with torch.no_grad():
            for x, _ in torch.utils.data.DataLoader(test, batch_size=512):
                total += model.loss(x).item() * len(x)
        history.append({"epoch": epoch, "seconds": t.seconds, "test_loss": total / len(test)})
        if on_epoch:
            on_epoch(history[-1])
    return {
        "images_per_second": len(train) * epochs / seconds,
        "test_loss": history[-1]["test_loss"],
        "seconds": seconds,
        "history": history,
    }
