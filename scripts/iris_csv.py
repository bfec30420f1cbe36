"""Write scikit-learn's bundled iris data set as the CSV that images/train/train.py reads.

    python scripts/iris_csv.py iris.csv

A header row, four numeric feature columns and the label column `target` (0, 1, 2: setosa,
versicolor, virginica), 150 rows: the same data as `builtin:iris`, for a stack whose
`projects.<name>.train.data` is a key in the bucket (prod's `datasets/iris.csv`).
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

from sklearn.datasets import load_iris

FEATURES = ("sepal_length_cm", "sepal_width_cm", "petal_length_cm", "petal_width_cm")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python scripts/iris_csv.py OUTPUT.csv", file=sys.stderr)
        return 2
    data, target = load_iris(return_X_y=True)
    with Path(args[0]).open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow([*FEATURES, "target"])
        writer.writerows([*(float(value) for value in row), int(label)] for row, label in zip(data, target, strict=True))
    print(f"wrote {len(target)} rows to {args[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
