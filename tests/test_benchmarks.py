"""The benchmark scripts still run and print the figures docs/performance.md quotes.

Smoke runs with a handful of steps: the timings are not checked (speed is judged by the
scripts themselves, on a quiet machine), only that each script gets to its summary lines.
"""

import importlib.util
import os
import subprocess
import sys

import pytest

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
DATA = os.environ.get("XCNN_DATA_DIR")
QUICK = ["--steps", "2", "--warmup", "1", "--turn", "1", "--pause", "0", "--settle", "0"]


def run_script(name, *args):
    done = subprocess.run(
        [sys.executable, os.path.join(ROOT, "benchmarks", name), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def has(module):
    return importlib.util.find_spec(module) is not None


@pytest.mark.parametrize("model", ["seed", "lecture"])
def test_train_step_prints_step_times_and_breakdown(model):
    out = run_script("train_step.py", "--model", model, *QUICK)
    assert "machine now: sgemm" in out
    assert "xcnn numpy" in out and "ms/step" in out
    assert "conv2d forward" in out and "optimizer" in out  # the per-layer breakdown


@pytest.mark.skipif(not has("torch"), reason="torch not installed")
def test_train_step_compares_with_torch():
    out = run_script("train_step.py", "--model", "seed", "--compare", "torch", "--no-breakdown", *QUICK)
    assert "channels-last" in out and "NCHW" in out
    assert "per round (2 rounds): ratio min" in out
    assert out.strip().splitlines()[-1].startswith("ratio xcnn/torch: ")  # the issue asks for it last


@pytest.mark.skipif(not has("torch"), reason="torch not installed")
def test_train_step_times_torch_without_onednn_apart():
    args = ("--model", "seed", "--compare", "torch", "--torch-without-onednn", "--no-breakdown", *QUICK)
    lines = run_script("train_step.py", *args).strip().splitlines()
    assert any(line.startswith("torch ") and "channels-last, no oneDNN" in line for line in lines)
    assert lines[-2].startswith("ratio xcnn/torch without oneDNN: ")
    assert lines[-1].startswith("ratio xcnn/torch: ")  # still last, against the twin with oneDNN


@pytest.mark.skipif(not (has("torch") and has("threadpoolctl")), reason="needs torch and threadpoolctl")
def test_train_step_runs_each_blas_thread_count():
    out = run_script("train_step.py", "--compare", "torch", "--no-breakdown", "--blas-threads", "1,2", *QUICK)
    assert "xcnn numpy, 1 BLAS thread " in out and "xcnn numpy, 2 BLAS threads" in out
    assert "ratio xcnn/torch (xcnn numpy, 1 BLAS thread)" in out
    assert "ratio xcnn/torch (xcnn numpy, 2 BLAS threads)" in out


@pytest.mark.skipif(not has("torch"), reason="torch not installed")
@pytest.mark.parametrize("model", ["lenet", "vgg", "resnet"])
def test_train_step_has_a_torch_twin_for_every_zoo_network(model):
    out = run_script(
        "train_step.py", "--model", model, "--batch-size", "4", "--compare", "torch", "--no-breakdown", *QUICK
    )
    assert "channels-last" in out and "no torch twin" not in out
    assert out.strip().splitlines()[-1].startswith("ratio xcnn/torch: ")


@pytest.mark.skipif(not has("torch"), reason="torch not installed")
def test_torch_twins_have_the_zoo_networks_parameter_counts():
    sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
    import train_step
    from xcnn import zoo

    for name, shape in train_step.SHAPES.items():
        twin = train_step.torch_twin(name, shape)
        ours = zoo.get(name, input_shape=shape)
        trainable = sum(layer.count_params() - layer.count_non_trainable() for layer in ours.layers)
        assert sum(p.numel() for p in twin.parameters()) == trainable, name


def test_train_step_rejects_a_bad_thread_count():
    done = subprocess.run(
        [sys.executable, os.path.join(ROOT, "benchmarks", "train_step.py"), "--blas-threads", "0", *QUICK],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 2 and "--blas-threads" in done.stderr


def _in_git_checkout():
    try:
        return subprocess.run(["git", "-C", ROOT, "rev-parse", "HEAD"], capture_output=True).returncode == 0
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not _in_git_checkout(), reason="ab.py compares against a git commit")
def test_ab_compares_the_working_tree_with_a_commit():
    out = run_script("ab.py", "--base", "HEAD", "--rounds", "1", "--turn", "1")
    assert "working tree" in out and "base HEAD" in out
    assert "ratio working tree / base: " in out


@pytest.mark.skipif(not _in_git_checkout(), reason="ab.py compares against a git commit")
def test_ab_compares_predict_too():
    out = run_script("ab.py", "--base", "HEAD", "--rounds", "1", "--turn", "1", "--batch-size", "2", "--predict", "3")
    assert "ms/predict of 3" in out and "ratio working tree / base: " in out


def test_ops_benchmark_times_each_case():
    out = run_script("ops.py", "--tables", "core", "--backends", "numpy", "--repeat", "1")
    for case in ("conv article", "max pool 2x2", "flatten"):
        assert case in out


@pytest.mark.skipif(
    not DATA or not os.path.exists(os.path.join(DATA, "mnist.npz")), reason="needs mnist.npz under XCNN_DATA_DIR"
)
@pytest.mark.slow
def test_epoch_benchmark_reports_time_accuracy_and_memory():
    out = run_script("epoch.py")
    assert "s per epoch" in out and "val_accuracy" in out and "peak RSS" in out


@pytest.mark.skipif(not has("torch"), reason="torch not installed")
def test_dtype_ratio_reports_float64_over_float32_for_both_libraries():
    out = run_script(
        "dtype_ratio.py",
        "--compare",
        "torch",
        "--steps",
        "2",
        "--warmup",
        "1",
        "--turn",
        "1",
        "--pause",
        "0",
        "--settle",
        "0",
    )
    assert "xcnn: float32" in out and "torch (float32 " in out
    assert out.count("float64/float32") == 2


def test_ops_benchmark_conv_table_names_each_row_and_algorithm():
    out = run_script("ops.py", "--tables", "conv", "--batch-size", "2", "--repeat", "1")
    assert "3x3 s1 same 128->128 @8x8" in out and "5x5 valid 6->16 @14x14" in out
    assert "gather" in out and "im2col" in out
    if has("torch"):
        assert "torch f+b" in out
        out = run_script("ops.py", "--tables", "conv", "--batch-size", "2", "--repeat", "1", "--conv-backend", "torch")
        assert "xcnn on torch" in out and "native" in out


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_predict_benchmark_reports_images_per_second(backend):
    if not has(backend):
        pytest.skip(f"{backend} not installed")
    out = run_script(
        "predict.py",
        *("--models", "seed,resnet", "--batches", "1,3", "--images-at-batch-1", "2", "--repeat", "1", "--pause", "0"),
        *("--backend", backend),
    )
    assert f"xcnn on {backend}" in out
    lines = [line for line in out.splitlines() if line.startswith(("seed", "resnet"))]
    assert len(lines) == 4
    # onnxruntime's column says why it is empty when there is no export or no onnxruntime
    assert all("onnxruntime" in line or "not available" in line for line in lines)


def test_train_step_breakdown_walks_graph_models():
    # ResNet's Add layers take two inputs and its skips feed two layers: the breakdown walks
    # the graph as the trainer does
    out = run_script("train_step.py", "--model", "resnet", "--batch-size", "4", *QUICK)
    assert "add forward" in out and "add backward" in out and "global_average_pooling2d backward" in out


@pytest.mark.skipif(not has("torch"), reason="torch not installed")
def test_memory_reports_each_contenders_peak():
    out = run_script("memory.py", "--model", "lecture", "--batch-size", "8", "--images", "16", "--backend", "torch")
    assert "xcnn on torch" in out and "xcnn  : peak" in out and "torch : peak" in out and "failed" not in out
