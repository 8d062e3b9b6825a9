#!/usr/bin/env bash
# CI entry point: install xcnn into a fresh virtualenv, then run the README's test command.
set -euo pipefail
cd "$(dirname "$0")/.."

venv="${XCNN_CI_VENV:-.venv-ci}"
python3 -m venv "$venv"
# shellcheck disable=SC1091
. "$venv/bin/activate"
python -m pip install -q --upgrade pip
python -m pip install -q -e ".[test,mpi]"  # mpi: mpi4py and MPICH's mpiexec for the multi-rank tests
# the interop extras, and the programs the interop tests check against (Keras itself, onnxruntime,
# TensorBoard's event reader); without them those tests skip with the reason
python -m pip install -q -e ".[keras-files,onnx,tensorboard]"
python -m pip install -q "keras>=3" onnxruntime tensorboard || echo "keras/onnxruntime/tensorboard not installable here: their tests will be skipped"
# torch is an optional extra backend; 2.13.0 is the CPU build this machine kind serves locally.
python -m pip install -q "torch==2.13.0" || echo "torch not installable here: its tests will be skipped"

export XCNN_DATA_DIR="${XCNN_DATA_DIR:-../shared/datasets}"
export MPLBACKEND=Agg
# The README's test command:
python -m pytest -q

# The lowest declared versions, in a second fresh virtualenv (XCNN_CI_SKIP_MIN_VERSIONS=1 skips it):
if [ -z "${XCNN_CI_SKIP_MIN_VERSIONS:-}" ]; then
    deactivate
    bash ci/min_versions.sh
fi
