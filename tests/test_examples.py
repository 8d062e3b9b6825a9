"""Each example runs to completion in a short --limit'ed form."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.mark.skipif(
    not os.path.exists(os.path.join(os.environ.get("XCNN_DATA_DIR", "/nonexistent"), "mnist.npz")),
    reason="set XCNN_DATA_DIR to a folder with mnist.npz",
)
@pytest.mark.parametrize("script, expected", [
    ("seed_mnist_cnn.py", "test accuracy:"),
    ("keras_lecture.py", "pictures written to"),
    ("cpu_to_gpu.py", "predictions agree: True"),
])
def test_example_runs(script, expected, tmp_path):
    args = [sys.executable, str(EXAMPLES / script), "--limit", "500", "--epochs", "1"]
    env = {**os.environ, "MPLBACKEND": "Agg"}
    result = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    assert expected in result.stdout
