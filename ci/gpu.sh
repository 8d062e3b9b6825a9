#!/usr/bin/env bash
# The GPU checks (docs/gpu.md), for a machine with NO network and NO package registry whose
# python3 has torch (CUDA), CuPy, NumPy, pytest, hypothesis, safetensors, tqdm and matplotlib
# but not array-api-compat/-extra/-strict: those come as wheels in gpu-wheels/ (made by
# ci/gpu_wheels.sh where there is network) and are put on PYTHONPATH, nothing is installed.
#
#   bash ci/gpu.sh            # every check the machine allows; logs under ${OUT:-gpu-logs}/
#   bash ci/gpu.sh --dry-run  # print the checks it would run, run none
#
# Steps: environment and GPU probe; the whole test suite on cupy, and on torch with
# device="cuda"; the train-step benchmark against PyTorch on CUDA (article at batch 100 and
# 1000, vgg and resnet at 128), on cupy and on torch-cuda; device memory per epoch; the
# 30-epoch MNIST run with --backend cupy and with --backend torch --device cuda.
# Every step's exit code is checked and written to summary.txt; the script carries on past a
# failed step and exits 1 if any failed. Without a usable GPU it says so and exits 0
# (XCNN_GPU_REQUIRED=1: exit 3 instead), having checked that xcnn imports with the wheels.
# XCNN_GPU_ONLY="pytest-* train_step-seed-*" runs only the steps whose names match one of the
# globs (the names are listed by --dry-run); XCNN_GPU_EPOCHS=N shortens the MNIST runs.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
dry_run=0
case "${1:-}" in
  --dry-run) dry_run=1 ;;
  "") ;;
  *) echo "usage: bash ci/gpu.sh [--dry-run]" >&2; exit 2 ;;
esac

out="${OUT:-$root/gpu-logs}"
mkdir -p "$out"
summary="$out/summary.txt"
: > "$summary"
py=python3
epochs="${XCNN_GPU_EPOCHS:-30}"  # the MNIST runs; fewer for a quick look
failed=()

say() { echo "[gpu.sh] $*" | tee -a "$summary"; }

# step NAME COMMAND...: run it with its output in $out/NAME.log, record its exit code
step() {
  local name=$1
  shift
  if [ -n "${XCNN_GPU_ONLY:-}" ] && [ "$name" != environment ]; then
    local pattern patterns wanted=0
    read -ra patterns <<< "$XCNN_GPU_ONLY"  # split on spaces without expanding the globs
    for pattern in "${patterns[@]}"; do
      # shellcheck disable=SC2053  # the pattern is a glob on purpose
      if [[ "$name" == $pattern ]]; then wanted=1; fi
    done
    if [ "$wanted" = 0 ]; then
      say "skipped $name: not in XCNN_GPU_ONLY=\"$XCNN_GPU_ONLY\""
      return 0
    fi
  fi
  if [ "$dry_run" = 1 ]; then
    say "would run $name: $*"
    return 0
  fi
  say "step $name: $*"
  local start=$SECONDS rc=0
  "$@" > "$out/$name.log" 2>&1 || rc=$?
  if [ "$rc" = 0 ]; then
    say "  ok in $((SECONDS - start)) s: $(tail -n 1 "$out/$name.log")"
  else
    say "  FAILED with exit code $rc in $((SECONDS - start)) s; last lines of $out/$name.log:"
    tail -n 15 "$out/$name.log" | sed 's/^/    /' | tee -a "$summary"
    failed+=("$name")
  fi
}

# --- the wheels the machine lacks, unpacked (a wheel is a zip) onto PYTHONPATH ----------------
site="$(mktemp -d "${TMPDIR:-/tmp}/xcnn-gpu-site.XXXXXX")"
trap 'rm -rf "$site"' EXIT
shopt -s nullglob
wheels=("$root"/gpu-wheels/*.whl)
shopt -u nullglob
for whl in "${wheels[@]}"; do
  "$py" -m zipfile -e "$whl" "$site"
done
export PYTHONPATH="$site:$root${PYTHONPATH:+:$PYTHONPATH}"
export MPLBACKEND=Agg PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
if [ -z "${XCNN_DATA_DIR:-}" ]; then
  if [ -f "$root/gpu-data/mnist.npz" ]; then XCNN_DATA_DIR="$root/gpu-data"; else XCNN_DATA_DIR="$root/../shared/datasets"; fi
fi
export XCNN_DATA_DIR
say "python3: $(command -v "$py") ($("$py" --version 2>&1)); wheels: ${#wheels[@]} from gpu-wheels/; XCNN_DATA_DIR=$XCNN_DATA_DIR"

missing=$("$py" - <<'PY'
import importlib.util
need = ["numpy", "array_api_compat", "array_api_extra", "array_api_strict", "pytest", "hypothesis", "safetensors", "tqdm"]
print(" ".join(name for name in need if importlib.util.find_spec(name) is None))
PY
)
if [ -n "$missing" ]; then
  say "missing Python modules: $missing (array_api_*: run 'bash ci/gpu_wheels.sh' where there is network, and carry gpu-wheels/)"
  exit 2
fi

# --- environment and the GPU probe ------------------------------------------------------------
environment() {
  nvidia-smi || echo "(no nvidia-smi)"
  "$py" -m xcnn info
  "$py" - <<'PY'
import sys

import numpy

print("python", sys.version.split()[0], "numpy", numpy.__version__)
for name in ("torch", "cupy", "array_api_compat", "array_api_extra", "array_api_strict"):
    try:
        module = __import__(name)
        print(name, module.__version__, "from", module.__file__)
    except Exception as exc:
        print(name, "not importable:", exc)
PY
}
step environment environment
probe=$("$py" - <<'PY'
from xcnn import backend as B
cupy_ok, why = B.cuda_status()
torch_ok, torch_why = False, "torch is not installed"
try:
    import torch
    torch_ok = torch.cuda.is_available()
    torch_why = "CUDA available" if torch_ok else "torch.cuda.is_available() is False"
    if torch_ok:
        probe = torch.arange(6.0, device="cuda").reshape(2, 3)
        torch_ok = float((probe @ probe.T).sum()) == 83.0
        torch_why = "a test kernel ran" if torch_ok else "a test kernel computed a wrong sum"
except Exception as exc:
    torch_ok, torch_why = False, f"{type(exc).__name__}: {exc}"
print(int(cupy_ok), int(torch_ok), f"cupy: {why}; torch CUDA: {torch_why}")
PY
)
read -r cupy_ok torch_ok probe_text <<< "$probe"
say "GPU probe: $probe_text"
if [ "$cupy_ok" = 0 ] && [ "$torch_ok" = 0 ]; then
  if [ "$dry_run" = 1 ]; then
    say "no GPU here; with one, the checks below would run"
    cupy_ok=1 torch_ok=1
  else
    say "no GPU: neither CuPy nor torch can run a CUDA kernel here, so no GPU check ran (xcnn imports with the wheels)"
    [ "${XCNN_GPU_REQUIRED:-0}" = 1 ] && exit 3
    exit 0
  fi
fi

# --- the test suite on each GPU backend ---------------------------------------------------------
pytest_args=(-m pytest -q -p no:cacheprovider -rfE)
if [ "$cupy_ok" = 1 ]; then
  step pytest-cupy env XCNN_TEST_BACKENDS=cupy XCNN_TEST_DEVICES= "$py" "${pytest_args[@]}"
else
  say "skipped pytest-cupy: CuPy cannot run a kernel here"
fi
if [ "$torch_ok" = 1 ]; then
  step pytest-torch-cuda env XCNN_TEST_BACKENDS=torch XCNN_TEST_DEVICES=torch=cuda "$py" "${pytest_args[@]}"
else
  say "skipped pytest-torch-cuda: torch has no CUDA here"
fi

# --- train-step benchmark against PyTorch on the same GPU ------------------------------------
bench_models=$("$py" -c "import sys; sys.path.insert(0, 'benchmarks'); import train_step; print(' '.join(train_step.SHAPES))")
for run in "seed 100" "seed 1000" "vgg 128" "resnet 128"; do
  read -r model batch <<< "$run"
  if [[ " $bench_models " != *" $model "* ]]; then
    say "skipped train_step $model: benchmarks/train_step.py has no model '$model' (it has: $bench_models)"
    continue
  fi
  common=(benchmarks/train_step.py --model "$model" --batch-size "$batch" --compare torch --steps 50)
  if [ "$cupy_ok" = 1 ]; then
    step "train_step-$model-$batch-cupy" "$py" "${common[@]}" --backend cupy
  fi
  if [ "$torch_ok" = 1 ]; then
    step "train_step-$model-$batch-torch-cuda" "$py" "${common[@]}" --backend torch --device cuda
  fi
done

# --- device memory per epoch, and the 30-epoch MNIST run ---------------------------------------
if [ ! -f "$XCNN_DATA_DIR/mnist.npz" ] && [ "$dry_run" = 0 ]; then
  say "skipped the MNIST steps: no mnist.npz in $XCNN_DATA_DIR (ci/gpu_wheels.sh copies it into gpu-data/)"
else
  timed=()
  if [ -x /usr/bin/time ]; then timed=(/usr/bin/time -v); fi
  if [ "$cupy_ok" = 1 ]; then
    step epoch-memory-cupy "$py" benchmarks/epoch.py --backend cupy --epochs 2
    step train-cupy "${timed[@]}" "$py" -m xcnn train --backend cupy --epochs "$epochs" --out "$out/run-cupy" --no-progress
  fi
  if [ "$torch_ok" = 1 ]; then
    step epoch-memory-torch-cuda "$py" benchmarks/epoch.py --backend torch --device cuda --epochs 2
    step train-torch-cuda "${timed[@]}" "$py" -m xcnn train --backend torch --device cuda --epochs "$epochs" \
      --out "$out/run-torch-cuda" --no-progress
  fi
fi

# --- the NCCL communicator of xcnn.distribution (issue 17): one rank; two when there are two GPUs --------
if [ "$cupy_ok" = 1 ] && ! "$py" -c "import mpi4py" > /dev/null 2>&1; then
  say "skipped nccl-one-rank and nccl-two-ranks: mpi4py is not installed (pip install 'xcnn[mpi]')"
elif [ "$cupy_ok" = 1 ]; then
  step nccl-one-rank "$py" ci/nccl_check.py
  gpus=$(nvidia-smi -L 2>/dev/null | wc -l || echo 0)
  if command -v mpiexec > /dev/null && [ "$gpus" -ge 2 ]; then
    step nccl-two-ranks env XCNN_BACKEND=cupy mpiexec -n 2 "$py" -m mpi4py ci/nccl_check.py
  else
    say "skipped nccl-two-ranks: needs mpiexec and two GPUs (found $gpus)"
  fi
fi

if [ "${#failed[@]}" -gt 0 ]; then
  say "FAILED steps: ${failed[*]}"
  exit 1
fi
if [ "$dry_run" = 1 ]; then
  say "dry run: nothing was run"
else
  say "all steps passed; logs in $out"
fi

