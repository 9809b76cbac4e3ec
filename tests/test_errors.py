"""Every bad input: exit 2 (usage) or 1 (runtime), one `Error:` line naming the fix, no traceback,
and no output file left behind."""

import pytest
from helpers import invoke

V, C, T = "{vae}", "{cvae}", "{tmp}"

CASES = [
    # (arguments, exit code, text the message must contain)
    (["sample", "gan"], 2, "choose one of: ae,"),
    (["eval", "gan"], 2, "unknown model"),
    (["frobnicate"], 2, "No such command"),
    (["train"], 2, "Missing argument"),
    (["sample", "ae", "-o", T + "/s.png"], 1, "aecli train ae"),
    (["sample", "vae", "-o", "x.gif"], 2, ".png, .npy"),
    (["train", "vae", "--epochs", "0"], 2, "--epochs"),
    (["train", "vae", "--epochs", "abc"], 2, "--epochs"),
    (["train", "vae", "--dataset", "cifar"], 2, "unknown dataset"),
    (["train", "vae", "--device", "tpu"], 2, "choose one of"),
    (["train", "vae", "--dataset", "digits", "--device", "cuda"], 2, "not available"),
    (["sample", "vae", "--temperature", "-1"], 2, "--temperature"),
    (["train", "vae", "--dataset", "digits", "--precision", "fp16"], 2, "choose one of: auto, fp32, bf16"),
    (["train", "vae", "--lr", "-1"], 2, "--lr"),
    (["train", "vae", "--lr", "fast"], 2, "--lr"),
    (["train", "vae", "--batch-size", "0"], 2, "--batch-size"),
    (["train", "vae", "--latent-dim", "0"], 2, "--latent-dim"),
    (["train", "vae", "--seed", "-1"], 2, "--seed"),
    (["train", "ae", "--image-size", "8"], 2, "--image-size"),
    (["train", "ae", "--crop", "0"], 2, "--crop"),
    (["train", "ae", "--crop", "1.5"], 2, "--crop"),
    (["train", "vae", "--dataset", "digits", "--data-dir", T], 2, "does not use --data-dir"),
    (["train", "vae", "--data-dir", T + "/nothing-here"], 1, "--dataset digits"),
    (["train", "cvae", "--dataset", "lfw-mini"], 2, "class labels"),
    (["train", "ae", "--dataset", "lfw-mini", "--image-size", "42"], 2, "--image-size"),
    (["train", "vae", "--resume"], 1, "drop --resume"),
    (["train", "ae", "--data-dir", T + "/nothing-here"], 1, "lfw-mini"),
    (["reconstruct", "vae", "-n", "0"], 2, "-n"),
    (["reconstruct", "vae", "--checkpoint", V, "--input", T + "/missing.png", "-o", T + "/r.png"], 1, "does not exist"),
    (["reconstruct", "vae", "--checkpoint", V, "--input", T + "/empty.png", "-o", T + "/r.png"], 1, "cannot read"),
    (["reconstruct", "vae", "--checkpoint", V, "-o", T + "/r.txt"], 2, ".png, .npy"),
    (["sample", "vae", "-n", "-5"], 2, "-n"),
    (["sample", "vae", "--seed", "-1"], 2, "--seed"),
    (["sample", "vae", "--checkpoint", T + "/nowhere"], 1, "does not exist"),
    (["sample", "vae", "--checkpoint", T + "/model.pt", "-o", T + "/s.png"], 1, "never unpickles"),
    (["sample", "cvae", "--checkpoint", V, "-o", T + "/s.png"], 1, "holds a vae model, not cvae"),
    (["sample", "vae", "--checkpoint", V, "-o", T + "/blocker/s.png"], 1, "choose another -o"),
    (["sample", "vae", "--checkpoint", V, "-o", T + "/folder.png"], 1, "is a folder"),
    (["generate", "cvae", "--checkpoint", C, "--digit", "10", "-o", T + "/g.png"], 2, "0-9 or all"),
    (["generate", "cvae", "--checkpoint", C, "--digit", "x", "-o", T + "/g.png"], 2, "0-9 or all"),
    (["generate", "vae", "--checkpoint", V, "-o", T + "/g.png"], 2, "takes a class"),
    (["generate", "cvae", "-n", "0"], 2, "-n"),
    (["smile", "vae", "--checkpoint", V, "-o", T + "/s.png"], 2, "no attributes"),
    (["smile", "ae", "--steps", "1"], 2, "--steps"),
    (["interpolate", "vae", "-n", "1"], 2, "-n"),
    (["tsne", "vae", "-n", "5"], 2, "-n"),
    (["tsne", "vae", "--checkpoint", V, "-o", T + "/t.gif"], 2, ".png, .csv, .npy"),
    (["tsne", "vae", "cvae", "--checkpoint", V, "-o", T + "/t.png"], 2, "one model"),
    (["eval", "vae", "-k", "0"], 2, "-k"),
]


@pytest.fixture
def places(tmp_path, trained):
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "model.pt").write_bytes(b"\x80\x04not a checkpoint")
    (tmp_path / "blocker").write_text("a file, not a folder")
    (tmp_path / "folder.png").mkdir()
    return {V: str(trained["vae"]), C: str(trained["cvae"]), T: str(tmp_path)}


def fill(arg: str, places: dict) -> str:
    for key, value in places.items():
        arg = arg.replace(key, value)
    return arg


@pytest.mark.parametrize("args, code, message", CASES, ids=[" ".join(c[0])[:60] for c in CASES])
def test_bad_input_gets_one_clear_line(args, code, message, places, tmp_path):
    before = {p.name for p in tmp_path.iterdir()}
    result = invoke(*[fill(a, places) for a in args])
    assert result.exit_code == code, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    # one line, usage errors too (besides the line that says which model a command loaded)
    lines = [line for line in result.stderr.splitlines() if not line.startswith("Using ")]
    assert len(lines) == 1 and lines[0].startswith("Error:"), result.stderr
    assert {p.name for p in tmp_path.iterdir()} == before  # no partial output
