"""scripts/iris_csv.py makes the CSV prod trains on (datasets/iris.csv), and train.py accepts it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from offline.engine import ROOT
from tests.images.conftest import base_env, run_train

HEADER = "sepal_length_cm,sepal_width_cm,petal_length_cm,petal_width_cm,target"


def test_iris_csv_is_data_that_train_py_accepts(tmp_path: Path) -> None:
    # Without the file in the bucket, prod's first scheduled run fails with exit 3 (data not found).
    csv = tmp_path / "iris.csv"
    made = subprocess.run([sys.executable, str(ROOT / "scripts" / "iris_csv.py"), str(csv)], capture_output=True, text=True, timeout=120, check=False)
    assert made.returncode == 0, made.stderr
    lines = csv.read_text().splitlines()
    assert (lines[0], lines[1], len(lines)) == (HEADER, "5.1,3.5,1.4,0.2,0", 151)
    trained = run_train("--data", csv.as_uri(), "--model", "iris", "--output", (tmp_path / "models").as_uri(), env=base_env())
    assert trained.returncode == 0, trained.stderr
    assert trained.stderr == ""
    assert (tmp_path / "models" / "iris" / "LATEST").exists()
