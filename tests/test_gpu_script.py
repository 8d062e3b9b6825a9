"""ci/gpu.sh, the offline GPU check, runs as far as this machine allows (docs/gpu.md)."""

import os
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_gpu_script_dry_run_lists_every_check(tmp_path):
    env = {
        **os.environ,
        "OUT": str(tmp_path),
        "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""),
    }
    done = subprocess.run(
        ["bash", os.path.join(ROOT, "ci", "gpu.sh"), "--dry-run"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    summary = (tmp_path / "summary.txt").read_text()
    for check in (
        "GPU probe:",
        "pytest-cupy",
        "pytest-torch-cuda",
        "train_step-seed-100",
        "train_step-seed-1000",
        "train_step-vgg-128",
        "epoch-memory-cupy",
        "train-cupy",
        "train-torch-cuda",
    ):
        assert check in summary, f"{check!r} missing from:\n{summary}"
    assert "dry run: nothing was run" in summary


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_gpu_script_rejects_unknown_arguments(tmp_path):
    done = subprocess.run(
        ["bash", os.path.join(ROOT, "ci", "gpu.sh"), "--bogus"],
        cwd=ROOT,
        env={**os.environ, "OUT": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2 and "usage: bash ci/gpu.sh [--dry-run]" in done.stderr
