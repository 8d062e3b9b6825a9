#!/usr/bin/env bash
# The GPU checks of issue 6, for a machine with a CUDA GPU and CuPy installed (run from the
# repo root; MNIST at $XCNN_DATA_DIR). Writes its logs under ${OUT:-gpu-logs}/.
set -uo pipefail
out="${OUT:-gpu-logs}"
mkdir -p "$out"
export XCNN_DATA_DIR="${XCNN_DATA_DIR:-../shared/datasets}" MPLBACKEND=Agg PYTHONUNBUFFERED=1
python -m pip install -q -e . 2>&1 | tail -2
{ nvidia-smi; python -c "import cupy, torch; print('cupy', cupy.__version__, 'torch', torch.__version__)"; xcnn info; } \
  > "$out/device.txt" 2>&1
XCNN_TEST_BACKENDS=cupy,numpy python -m pytest -q -p no:cacheprovider 2>&1 | tee "$out/pytest-cupy.txt" | tail -3
for model_batch in "seed 100" "seed 1000" "vgg 128"; do
  set -- $model_batch
  python benchmarks/train_step.py --model "$1" --batch-size "$2" --backend cupy --compare torch 2>&1
done | tee "$out/train_step-cupy.txt"
python benchmarks/epoch.py --backend cupy --epochs 2 2>&1 | tee "$out/epoch-cupy.txt"
/usr/bin/time -v xcnn train --backend cupy --out "$out/run" --no-progress > "$out/train-cupy.txt" 2>&1
tail -4 "$out/train-cupy.txt"
# issue 17: the NCCL communicator on one rank, and on two GPUs training against one process
python -m pip install -q -e ".[mpi]" 2>&1 | tail -1
{ python ci/nccl_check.py
  if [ "$(nvidia-smi -L | wc -l)" -ge 2 ]; then
    XCNN_BACKEND=cupy mpiexec -n 2 python -m mpi4py ci/nccl_check.py
    XCNN_BACKEND=cupy mpiexec -n 2 python -m mpi4py tests/distributed_worker.py float64 "$out/nccl-float64.json" \
      && cat "$out/nccl-float64.json"
  fi; } 2>&1 | tee "$out/nccl.txt"
