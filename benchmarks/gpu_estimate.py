"""What a GPU should give for aecli's default VAE: an estimate from counts, not a measurement.

No GPU can be reached from the machines this project is built on, so this script counts what
decides a GPU's speed for a model this small, without one: the FLOPs of a training image (forward
and backward, counted by torch) and the operators a training step dispatches (forward, backward,
Adam), each of which is at least one kernel launch on a GPU. A step then takes at least
launches x launch cost, and at least its FLOPs / the GPU's sustained rate; images/s follow.

Run: python benchmarks/gpu_estimate.py [--batch-size N]  (default: the vae's own, 96)
"""

import argparse
import copy

import torch
from common import table
from torch.utils._python_dispatch import TorchDispatchMode

LAUNCH_MICROSECONDS = (5.0, 10.0)  # a kernel launch plus its dispatch in eager PyTorch, low and high
# sustained FLOP/s on small convolutions: a tenth of a mid-range GPU's fp32 peak (about 20 TFLOP/s)
SUSTAINED_TFLOPS = 2.0


class CountOps(TorchDispatchMode):
    def __init__(self):
        super().__init__()
        self.count = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.count += 1
        return func(*args, **(kwargs or {}))


def main() -> None:
    from torch.utils.flop_counter import FlopCounterMode

    from aecli.models import MODELS, create_model
    from aecli.train.loop import adam

    parser = argparse.ArgumentParser()
    parser.add_argument("--batch-size", type=int, default=MODELS.get("vae").default_batch_size)
    args = parser.parse_args()
    model = create_model("vae")
    optimizer = adam(model, 1e-3)
    x = torch.rand(args.batch_size, 1, 28, 28)
    # forward and backward as a GPU runs them: on the meta device no CPU-only form is taken
    # (aecli/models/layers.py), and nothing is computed
    gpu_model, gpu_x = copy.deepcopy(model).to("meta"), x.to("meta")
    with FlopCounterMode(display=False) as flops:
        gpu_model.loss(gpu_x).mean().backward()
    flop_per_image = flops.get_total_flops() / len(x)
    with CountOps() as model_ops:
        gpu_model.loss(gpu_x).mean().backward()
    # fused Adam, on the CPU, which has the same fused kernel (zero_grad dispatches nothing)
    model.loss(x).mean().backward()
    optimizer.step()  # Adam's state exists from here on, as in every later step
    with CountOps() as optimizer_ops:
        optimizer.step()
    ops_per_step = model_ops.count + optimizer_ops.count
    compute_seconds = flop_per_image * args.batch_size / (SUSTAINED_TFLOPS * 1e12)
    rows = []
    for micro in LAUNCH_MICROSECONDS:
        launch_seconds = ops_per_step * micro * 1e-6
        step = max(launch_seconds, compute_seconds)
        rows.append(
            [
                f"{micro:g} us per launch",
                ops_per_step,
                launch_seconds * 1e3,
                compute_seconds * 1e3,
                args.batch_size / step,
            ]
        )
    print(f"# default vae, batch {args.batch_size}: {flop_per_image / 1e6:.1f} MFLOP per training image")
    print("# ESTIMATE, NOT MEASURED: no GPU was used")
    headers = ["assumption", "operators per step", "launch ms per step", "compute ms per step", "images/s (estimate)"]
    print(table(headers, rows))
    print(f"# compute assumes {SUSTAINED_TFLOPS:g} TFLOP/s sustained; the step is bound by launches, not arithmetic")


if __name__ == "__main__":
    main()
