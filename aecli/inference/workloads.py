"""`encode` and `score` over files or a split: rows streamed to a table, a summary returned."""

import hashlib
import heapq
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from aecli.data import Reporter
from aecli.errors import AecliError, UsageError
from aecli.inference import model_batch
from aecli.inference.files import (
    InputFile,
    ReadReport,
    class_labels,
    encode_batch,
    find_inputs,
    read_batches,
    regroup,
    split_inputs,
)
from aecli.store.checkpoints import Checkpoint

MAX_SHOWN_WARNINGS = 10
SPLIT_BATCH = 1024


@dataclass
class FileRun:
    """What a run over files did: rows written, files left out (with why), and where the rows went."""

    rows: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    inverted: int = 0
    output: str | None = None
    columns: dict[str, np.ndarray] = field(default_factory=dict)  # all rows, when no output file was given


def _sources(ckpt, inputs, split, class_name, data_dir, reporter, report, strict):
    """(files, images, labels) batches from the inputs or the split, and how many are expected."""
    from aecli.inference.pictures import class_index

    chosen = class_index(ckpt.spec, class_name) if class_name is not None else None
    if split is not None:
        if split not in ("train", "test"):
            raise UsageError(f"--split {split!r}: use train or test")
        if inputs:
            raise UsageError("give input files or --split, not both")
        images, labels = split_inputs(ckpt, split, data_dir, reporter)
        if chosen is not None:
            labels = torch.full_like(labels, chosen)

        def from_split() -> Iterator:
            for start in range(0, len(images), SPLIT_BATCH):
                part = slice(start, start + SPLIT_BATCH)
                names = [
                    InputFile("", f"{split}/{i}", int(labels[i]))
                    for i in range(start, min(start + SPLIT_BATCH, len(images)))
                ]
                report.images += len(names)
                yield names, images[part], labels[part]

        return from_split(), len(images)
    if not inputs:
        raise UsageError("give image files, folders or patterns, or --split train|test")
    files = find_inputs(inputs, ckpt.spec.class_names, chosen)
    if not files:
        raise AecliError("the inputs hold no image files (PNG, JPEG, BMP, WebP, TIFF or GIF)")
    warned = [0]

    def on_skip(shown: str, reason: str) -> None:
        if strict:
            raise AecliError(f"{reason} (--strict: no output was written)")
        warned[0] += 1
        if reporter is not None and warned[0] <= MAX_SHOWN_WARNINGS:
            reporter.note(f"Warning: skipped {shown}: {reason}")

    return regroup(read_batches(ckpt, files, report, on_skip), model_batch(ckpt.model)), len(files)


def _finish(run: FileRun, report: ReadReport, reporter: Reporter | None) -> FileRun:
    run.skipped, run.inverted = report.skipped, report.inverted
    if reporter is not None and len(report.skipped) > MAX_SHOWN_WARNINGS:
        reporter.note(f"Warning: {len(report.skipped) - MAX_SHOWN_WARNINGS} more files could not be read")
    if report.images == 0:
        raise AecliError("none of the inputs could be read as an image; nothing was written")
    return run


def _collect(columns: dict[str, list]) -> dict[str, np.ndarray]:
    return {name: np.concatenate(parts) for name, parts in columns.items() if parts}


def encode(
    ckpt: Checkpoint,
    inputs: list | None = None,
    split: str | None = None,
    out: Path | None = None,
    with_logvar: bool = False,
    strict: bool = False,
    class_name: str | None = None,
    data_dir=None,
    reporter: Reporter | None = None,
) -> FileRun:
    """One row per image: path, class, latent mean z0..zK-1 (log-variance too with `with_logvar`),
    reconstruction MSE and PSNR. Written to `out` (.csv, .parquet, .npy: codes only) as it goes,
    else returned in `columns`."""
    from aecli.store.tables import row_sink

    report, run = ReadReport(), FileRun(output=str(out) if out else None)
    batches, expected = _sources(ckpt, inputs, split, class_name, data_dir, reporter, report, strict)
    names = list(ckpt.spec.class_names)
    kept: dict[str, list] = {}
    with row_sink(out, expected) if out else _no_sink() as sink:
        for files, images, labels in batches:
            found = encode_batch(ckpt, images, labels)
            if with_logvar and found["logvar"] is None:
                raise UsageError(f"{ckpt.model.name}'s encoder gives no log-variance; drop --with-logvar")
            columns = {"path": np.array([f.shown for f in files], dtype=object)}
            if names:
                columns["class"] = np.array([names[f.label] if f.label >= 0 else "" for f in files], dtype=object)
            columns |= {f"z{i}": found["codes"][:, i] for i in range(found["codes"].shape[1])}
            if with_logvar:
                columns |= {f"logvar{i}": found["logvar"][:, i] for i in range(found["logvar"].shape[1])}
            columns |= {"mse": found["mse"], "psnr": found["psnr"]}
            if sink is not None:
                sink.add(columns, found["codes"])
            else:
                for name, values in columns.items():
                    kept.setdefault(name, []).append(values)
            run.rows += len(files)
            _progress(reporter, "encoding", report.images + len(report.skipped), expected)
        _finish(run, report, reporter)
    run.columns = _collect(kept)
    return run


class _no_sink:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def _progress(reporter: Reporter | None, what: str, done: int, total: int) -> None:
    if reporter is not None:
        reporter.progress(what, done, total)


@dataclass
class Scored(FileRun):
    metric: str = ""
    quantiles: dict | None = None  # q95 / q99 / q999 of the training images' scores (None: unknown here)
    above: dict[str, int] = field(default_factory=dict)  # inputs above each quantile
    highest: float = math.nan
    top: list[tuple[float, str, np.ndarray]] = field(default_factory=list)  # (score, path, uint8 image), worst first


def score(
    ckpt: Checkpoint,
    inputs: list | None = None,
    split: str | None = None,
    out: Path | None = None,
    metric: str | None = None,
    k: int = 100,
    top: int = 0,
    strict: bool = False,
    class_name: str | None = None,
    data_dir=None,
    reporter: Reporter | None = None,
) -> Scored:
    """One anomaly score per image (higher: less like the training images), with the highest of the
    training images' quantiles it exceeds; the `top` highest-scoring images kept for a picture."""
    from aecli.evaluate.anomaly import exceeded, score_batch
    from aecli.store.tables import row_sink

    model = ckpt.model
    metric = model.metric(metric)
    levels = score_quantiles(ckpt, metric, k, data_dir, reporter)
    report = ReadReport()
    run = Scored(output=str(out) if out else None, metric=metric, quantiles=levels)
    run.above = dict.fromkeys(levels or {}, 0)
    run.above.pop("images", None)
    batches, expected = _sources(ckpt, inputs, split, class_name, data_dir, reporter, report, strict)
    names, kept, worst = list(ckpt.spec.class_names), {}, []
    with row_sink(out, expected) if out else _no_sink() as sink:
        for files, images, labels in batches:
            given = class_labels(ckpt, labels) if class_name is not None else None
            scores = score_batch(model, images, given, metric, k)
            flags = [exceeded(s, levels) if levels else "" for s in scores]
            columns = {"path": np.array([f.shown for f in files], dtype=object)}
            if names:
                columns["class"] = np.array([names[f.label] if f.label >= 0 else "" for f in files], dtype=object)
            columns |= {"score": scores, "metric": np.array([metric] * len(files), dtype=object)}
            columns["exceeds"] = np.array(flags, dtype=object)
            for name in run.above:
                run.above[name] += int((scores > levels[name]).sum())
            for i in range(len(files)) if top else []:
                entry = (float(scores[i]), files[i].shown, images[i].numpy())
                (heapq.heappush if len(worst) < top else heapq.heappushpop)(worst, entry)
            if sink is not None:
                sink.add(columns, scores[:, None].astype(np.float32))
            else:
                for name, values in columns.items():
                    kept.setdefault(name, []).append(values)
            run.rows += len(files)
            run.highest = max(float(scores.max()), run.highest if math.isfinite(run.highest) else -math.inf)
            _progress(reporter, f"scoring ({metric})", report.images + len(report.skipped), expected)
        _finish(run, report, reporter)
    run.columns = _collect(kept)
    run.top = sorted(worst, key=lambda entry: -entry[0])
    return run


def threshold(spec: str, levels: dict | None) -> float:
    """`--fail-over q99` (a training quantile) or a number."""
    text = spec.strip().lower()
    if text in ("q95", "q99", "q999"):
        if not levels:
            raise AecliError(
                f"--fail-over {spec}: this checkpoint's training quantiles are unknown here; give a number"
            )
        return float(levels[text])
    try:
        value = float(text)
    except ValueError:
        raise UsageError(f"--fail-over {spec!r}: use q95, q99, q999 or a number") from None
    if not math.isfinite(value):
        raise UsageError(f"--fail-over {spec!r}: use a finite number")
    return value


def score_quantiles(ckpt: Checkpoint, metric: str, k: int, data_dir, reporter: Reporter | None) -> dict | None:
    """The training images' score quantiles: stored at the end of training, else computed once from the
    training split and cached in the data cache (None, with a note, where the training split is not here)."""
    from aecli.data.recorded import recorded_data
    from aecli.evaluate.anomaly import quantile_images, training_quantiles
    from aecli.fileio import write_text_atomic
    from aecli.paths import data_cache

    stored = ckpt.training.get("score_quantiles", {})
    if isinstance(stored, dict) and isinstance(stored.get(metric), dict) and metric != "iwae":
        return stored[metric]
    weights = ckpt.path / "model.safetensors"
    key = hashlib.sha256(f"{ckpt.path.resolve()}|{weights.stat().st_mtime_ns}|{metric}|{k}".encode()).hexdigest()
    cached = data_cache() / "score-quantiles" / f"{key[:24]}.json"
    try:
        return json.loads(cached.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        pass
    try:
        train = recorded_data(ckpt, data_dir, reporter).train
    except AecliError as exc:
        if reporter is not None:
            reporter.note(f"The training images' {metric} quantiles are unknown here ({exc}); rows say nothing of them")
        return None
    if not len(train):
        if reporter is not None:
            reporter.note(f"The training images are not here, so their {metric} quantiles are unknown; pass --data-dir")
        return None
    if reporter is not None:
        reporter.note(
            f"Scoring {quantile_images(ckpt.model, len(train)):,} training images once for the {metric} quantiles"
        )
    found = training_quantiles(ckpt.model, train, metric, k)[metric]
    try:
        write_text_atomic(cached, json.dumps(found))
    except AecliError:
        pass  # a read-only cache: computed again next time
    return found
