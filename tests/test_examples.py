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
@pytest.mark.parametrize(
    "script, expected",
    [
        ("seed_mnist_cnn.py", "test accuracy:"),
        ("keras_lecture.py", "pictures written to"),
        ("cpu_to_gpu.py", "predictions agree: True"),
    ],
)
def test_example_runs(script, expected, tmp_path):
    args = [sys.executable, str(EXAMPLES / script), "--limit", "500", "--epochs", "1"]
    env = {**os.environ, "MPLBACKEND": "Agg"}
    result = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    assert expected in result.stdout


def _has_keras_namespace():
    import xcnn

    return all(hasattr(xcnn, name) for name in ("Input", "datasets", "metrics", "callbacks", "optimizers", "utils"))


@pytest.mark.skipif(
    not _has_keras_namespace(),
    reason="needs `import xcnn as keras` (xcnn.Input, xcnn.datasets, ...: the namespace half of issue #14)",
)
@pytest.mark.parametrize(
    "script, data, expected, needs",
    [
        ("mnist_convnet.py", "mnist.npz", "Test accuracy:", None),
        ("lecture_mnist.py", "mnist.npz", "Functional test accuracy:", None),
        # its ModelCheckpoint writes a .keras file, which needs the keras-files extra (h5py)
        ("fashion_callbacks.py", "fashion_mnist.npz", "best model: test accuracy", "h5py"),
    ],
)
def test_keras_example_runs_with_only_its_imports_changed(script, data, expected, needs, tmp_path):
    """examples/keras/: ordinary Keras 3 scripts with `import xcnn as keras`, on a small subset."""
    if needs is not None:
        pytest.importorskip(needs)
    if not os.path.exists(os.path.join(os.environ.get("XCNN_DATA_DIR", "/nonexistent"), data)):
        pytest.skip(f"set XCNN_DATA_DIR to a folder with {data}")
    env = {
        **os.environ,
        "MPLBACKEND": "Agg",
        "EXAMPLE_SAMPLES": "300",
        "EXAMPLE_EPOCHS": "1",
        "PYTHONPATH": os.pathsep.join([str(EXAMPLES.parent), os.environ.get("PYTHONPATH", "")]),
    }
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "keras" / script)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert expected in result.stdout
