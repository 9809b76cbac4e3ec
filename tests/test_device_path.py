"""The GPU's code path, exercised on the CPU: data placement, draws on the device, no per-step sync."""

import torch

from aecli.data import DataRecipe, Split
from aecli.device import bf16_is_native, fits_on_device, to_device, use_bf16
from aecli.train import batches
from aecli.train.batches import TrainingImages, draw_generator
from aecli.train.loop import REPORT_EVERY, TrainSettings, train

CUDA = torch.device("cuda")


def small_split(n=10):
    images = torch.arange(n * 4, dtype=torch.uint8).reshape(n, 1, 2, 2)
    return Split(images, torch.arange(n) % 3)


def test_on_the_cpu_the_split_is_used_in_place_and_batches_gather_images_with_their_labels():
    split = small_split()
    placed = TrainingImages.place(split, torch.device("cpu"))
    assert placed.resident
    assert placed.images.data_ptr() == split.images.data_ptr()  # no copy, even of a memory-mapped cache
    index = placed.order(torch.tensor([7, 2, 5]))
    x, y = placed.batch(index)
    assert torch.equal(x, split.images[[7, 2, 5]]) and torch.equal(y, split.labels[[7, 2, 5]])


def test_a_split_lives_on_the_gpu_only_when_it_leaves_room_for_the_model(monkeypatch):
    free = 1000
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda where=None: (free, 4 * free))
    assert fits_on_device(250, CUDA)  # a quarter of the free memory
    assert not fits_on_device(251, CUDA)
    assert fits_on_device(10**15, torch.device("cpu"))


def test_a_split_too_large_for_the_gpu_stays_on_the_host(monkeypatch):
    monkeypatch.setattr(batches, "fits_on_device", lambda nbytes, where: False)
    placed = TrainingImages(small_split().images, None, CUDA)
    assert not placed.resident
    placed = TrainingImages.place(small_split(), CUDA)
    assert placed.images.device.type == "cpu" and placed.labels.device.type == "cpu"


def test_the_bf16_check_asks_the_device(monkeypatch):
    for native in (True, False):
        monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda native=native: native)
        assert bf16_is_native(CUDA) is native
        assert use_bf16("auto", CUDA) is native
        assert use_bf16("fp32", CUDA) is False
        monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda native=native: native, raising=False)
        monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: False, raising=False)
        assert bf16_is_native(torch.device("cpu")) is native


def test_on_the_cpu_draws_come_from_the_epochs_own_generator_and_nothing_is_copied():
    generator = torch.Generator().manual_seed(3)
    assert draw_generator(generator, torch.device("cpu")) is generator  # CPU runs repeat exactly as before
    x = torch.ones(2)
    assert to_device(x, torch.device("cpu")) is x


def test_a_training_step_does_not_wait_for_the_device(tmp_path, monkeypatch):
    """Reading a value back from the device stalls a GPU's queue: only the progress reports may do it."""
    reads = []
    for name in ("item", "tolist", "cpu", "__bool__", "__float__"):
        original = getattr(torch.Tensor, name)

        def counted(self, *args, original=original, name=name, **kwargs):
            reads.append(name)
            return original(self, *args, **kwargs)

        monkeypatch.setattr(torch.Tensor, name, counted)
    reports = []  # (step, reads so far) at each progress report
    settings = TrainSettings(model="vae", data=DataRecipe("digits"), epochs=1, seed=0)
    train(settings, device="cpu", out=tmp_path / "run", on_progress=lambda p: reports.append((p.step, len(reads))))
    assert len(reports) >= 7 and reports[1][0] - reports[0][0] == REPORT_EVERY
    between = [after - before for (_, before), (_, after) in zip(reports, reports[1:], strict=False)]
    assert max(between) == 1, between  # the report's own running loss, nothing per step
