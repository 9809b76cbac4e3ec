"""aecli tsne MODEL [MODEL ...]"""

from pathlib import Path
from typing import Annotated

import typer

from aecli import api
from aecli.api import UsageError
from aecli.cli.app import app, command, emit, load, prepare_output, reporter
from aecli.cli.options import Checkpoint, DataDir, Json, examples, known_models, output


@app.command(
    epilog=examples(
        "aecli tsne vae -n 5000 -o tsne.png",
        "aecli tsne vae cvae -o compare.png --json",
        "aecli tsne ae --attribute Smiling -o faces.csv",
    )
)
@command
def tsne(
    models: Annotated[
        list[str],
        typer.Argument(
            help="One or more models, e.g. `vae cvae` to compare.", show_default=False, callback=known_models
        ),
    ],
    checkpoint: Checkpoint = None,
    attribute: Annotated[
        str | None,
        typer.Option(help="Colour by this attribute [default: by class; Smiling where the data has no classes]."),
    ] = None,
    n: Annotated[int, typer.Option("-n", min=10, max=100_000, help="How many test images.")] = 5000,
    seed: Annotated[int, typer.Option(min=0, max=api.MAX_SEED, help="t-SNE random seed.")] = 0,
    out: Path = output("tsne.png", ".png plot, .csv or .npy (x, y, label)."),
    data_dir: DataDir = None,
    as_json: Json = False,
) -> None:
    """2-D t-SNE of test-set latent codes, coloured by class (or attribute), with a cluster score."""
    import numpy as np

    out = prepare_output(out, (".png", ".csv", ".npy"))
    if checkpoint is not None and len(models) > 1:
        raise UsageError("--checkpoint names one model's checkpoint; compare several models without it")
    checkpoints = [load(name, checkpoint) for name in models]
    with reporter() as notes:
        embedded, points, data = api.compare(checkpoints, n, seed, attribute, data_dir, notes)
    panels = []
    for e, p in zip(embedded, points, strict=True):
        score = ", ".join(f"{k} {v:.3f}" for k, v in e.scores.items())
        panels.append(
            {
                "title": f"{e.model} ({score})" if score else e.model,
                "points": p,
                "labels": e.labels,
                "categorical": e.categorical,
            }
        )
    suffix = out.suffix.lower()
    if suffix == ".png":
        api.plot_embeddings(panels, out, embedded[0].legend, data.spec.class_names)
    elif suffix == ".npy":
        api.save_npy(
            np.concatenate([np.column_stack([p["points"], p["labels"]]) for p in panels]).astype(np.float32), out
        )
    else:
        rows = [
            {"model": e.model, "x": float(x), "y": float(y), "label": shown_label(label, e, data.spec.class_names)}
            for e, p in zip(embedded, points, strict=True)
            for (x, y), label in zip(p, e.labels, strict=True)
        ]
        api.save_csv(rows, out)
    results = {e.model: {"images": len(e.codes), **e.scores} for e in embedded}
    emit({"output": str(out), "models": results}, as_json, [out])


def shown_label(label, embedding, class_names) -> str | float:
    """A class as it is named (`7`, `Sneaker`), an attribute value as a number."""
    if embedding.categorical and int(label) < len(class_names):
        return class_names[int(label)]
    return int(label) if embedding.categorical else float(label)
