"""Start-up: `aecli --help`, `aecli COMMAND --help` and `aecli generate` against `import torch`.

Each command runs REPEAT times in a fresh process; the table shows the median wall time.
Run: python benchmarks/startup.py
"""

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import table

REPEAT = 5
AECLI = [sys.executable, "-m", "aecli"]


def median_seconds(command: list[str], env: dict) -> float:
    times = []
    for _ in range(REPEAT):
        start = time.perf_counter()
        subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="aecli-startup-"))
    env = {**os.environ, "AECLI_HOME": str(work / "home")}  # empty: generate uses the bundled cvae
    torch_seconds = median_seconds([sys.executable, "-c", "import torch"], env)
    rows = [["python -c 'import torch'", torch_seconds, 1.0, ""]]
    for label, command, target in [
        ("aecli --help", AECLI + ["--help"], 0.15),
        ("aecli train --help", AECLI + ["train", "--help"], 0.15),
        ("aecli generate --help", AECLI + ["generate", "--help"], 0.15),
        (
            "aecli generate cvae --digit 7 -o x.png",
            AECLI + ["generate", "cvae", "--digit", "7", "-o", str(work / "x.png")],
            1.3,
        ),
    ]:
        seconds = median_seconds(command, env)
        ratio = seconds / torch_seconds
        rows.append([label, seconds, ratio, f"<= {target} {'ok' if ratio <= target else 'MISSED'}"])
    print(f"# median of {REPEAT} runs each")
    print(table(["command", "seconds", "x import torch", "target"], rows))


if __name__ == "__main__":
    main()
