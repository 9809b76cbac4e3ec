"""aecli tsne MODEL [MODEL ...]"""

from pathlib import Path

import typer

from aecli.cli.app import (
    CheckpointOption,
    DataDirOption,
    JsonOption,
    app,
    command,
    emit,
    load_model,
    prepare_output,
    test_data,
)
from aecli.errors import UsageError


@app.command()
@command
def tsne(
    models: list[str] = typer.Argument(..., help="One or more models, e.g. `vae cvae` to compare."),
    checkpoint: Path = CheckpointOption,
    attribute: str = typer.Option("Smiling", help="Colour by this attribute when the data has no classes."),
    n: int = typer.Option(5000, "-n", min=10, max=100_000, help="How many test images."),
    seed: int = typer.Option(0, min=0, help="t-SNE random seed."),
    output: Path = typer.Option(Path("tsne.png"), "-o", "--output", help=".png plot, .csv or .npy (x, y, label)."),
    data_dir: Path = DataDirOption,
    as_json: bool = JsonOption,
) -> None:
    """2-D t-SNE of test-set latent codes, coloured by digit (or attribute), with a cluster score."""
    import numpy as np

    from aecli.evaluation import cluster_scores, embeddings, tsne_2d
    from aecli.imaging import plot_embeddings, save_csv, save_npy
    from aecli.ops import find_attribute

    output = prepare_output(output, (".png", ".csv", ".npy"))
    if checkpoint is not None and len(models) > 1:
        raise UsageError("--checkpoint names one model's checkpoint; compare several models without it")
    checkpoints = {name: load_model(name, checkpoint) for name in models}
    trained_on = {name: ckpt.spec.name for name, ckpt in checkpoints.items()}
    if len(set(trained_on.values())) > 1:
        found = ", ".join(f"{name} on {dataset}" for name, dataset in trained_on.items())
        raise UsageError(f"the models were trained on different data ({found}); train them on the same --dataset")
    panels, results, data = [], {}, None
    for name, ckpt in checkpoints.items():
        data = data or test_data(ckpt, data_dir)
        test = data.test
        count = min(n, len(test))
        codes = embeddings(ckpt.model, test, count)
        if test.labels is not None:
            labels, categorical, legend = test.labels[:count].numpy(), True, "digit"
            scores = cluster_scores(codes, labels)
        else:
            index = find_attribute(data.spec, attribute)
            labels, categorical, legend = (
                test.attributes[:count, index].numpy(),
                False,
                data.spec.attribute_names[index],
            )
            scores = {}
        points = tsne_2d(codes, seed)
        score_text = ", ".join(f"{k} {v:.3f}" for k, v in scores.items())
        panels.append(
            {
                "title": f"{name} ({score_text})" if scores else name,
                "points": points,
                "labels": labels,
                "categorical": categorical,
            }
        )
        results[name] = {"images": count, **scores}
    suffix = output.suffix.lower()
    table = np.concatenate([np.column_stack([p["points"], p["labels"]]) for p in panels]).astype(np.float32)
    if suffix == ".png":
        plot_embeddings(panels, output, legend)
    elif suffix == ".npy":
        save_npy(table, output)
    else:
        rows = [
            {"model": name, "x": float(x), "y": float(y), "label": float(label)}
            for name, panel in zip(models, panels, strict=True)
            for x, y, label in np.column_stack([panel["points"], panel["labels"]])
        ]
        save_csv(rows, output)
    emit({"output": str(output), "models": results}, as_json, [output])
