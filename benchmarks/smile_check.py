"""Does the smile vector make faces smile? An independent judge says.

The judge is a logistic regression on raw pixels, trained on the 12,794 real LFW faces of
../shared/data/lfw/lfw_faces_gray64.npz with their crowd-sourced expression labels (happiness vs
neutral), which aecli never sees. It scores each column of `aecli smile ae -o smile.npy`.

Run: aecli smile ae -n 16 --steps 5 -o smile.npy && python benchmarks/smile_check.py smile.npy
"""

import sys

import numpy as np
from common import MNIST, table

FACES = MNIST.parent / "lfw" / "lfw_faces_gray64.npz"


def train_judge():
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split

    with np.load(FACES, allow_pickle=False) as data:
        images, expression = data["images"], data["expression"]
    keep = np.isin(expression, ["happiness", "neutral"])
    x = images[keep].reshape(keep.sum(), -1) / 255.0
    y = expression[keep] == "happiness"
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, random_state=0)
    judge = LogisticRegression(C=0.01, max_iter=300).fit(x_train, y_train)
    print(f"# judge: logistic regression on pixels, held-out accuracy {judge.score(x_test, y_test):.3f}")
    return judge


def main() -> None:
    grid = np.load(sys.argv[1] if len(sys.argv) > 1 else "smile.npy")  # N x K x 1 x 64 x 64
    if grid.ndim != 5 or grid.shape[2:] != (1, 64, 64):
        raise SystemExit("expects a smile .npy from a grey 64x64 ae: N x K x 1 x 64 x 64")
    judge = train_judge()
    n, k = grid.shape[:2]
    probs = judge.predict_proba(grid.reshape(n * k, -1))[:, 1].reshape(n, k)
    rows = [[f"step {j}", float(probs[:, j].mean()), float((probs[:, j] > probs[:, 0]).mean())] for j in range(k)]
    print(table(["column", "mean P(smiling)", "share above step 0"], rows))


if __name__ == "__main__":
    main()
