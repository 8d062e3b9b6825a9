#!/usr/bin/env bash
# Prepare what ci/gpu.sh needs on a GPU machine without network or package registry, in two
# ignored folders that travel with the working tree (about 12 MiB in all):
#   gpu-wheels/  the pure-Python wheels that machine lacks (array-api-compat, -extra, -strict),
#                fetched here with `pip download --no-deps` (any Python 3 wheel: py3-none-any);
#   gpu-data/    mnist.npz, copied from $XCNN_DATA_DIR when it has it (the 30-epoch run needs it).
# Run from anywhere on a machine with pip and network:  bash ci/gpu_wheels.sh
# The versions are the ones the test suite passed with; override with XCNN_GPU_WHEELS_SPEC.
set -euo pipefail
cd "$(dirname "$0")/.."
wheels="gpu-wheels"
spec=${XCNN_GPU_WHEELS_SPEC:-"array-api-compat==1.16.0 array-api-extra==0.11.5 array-api-strict==2.6.1"}
mkdir -p "$wheels"
# shellcheck disable=SC2086  # the spec is a list of requirements
python3 -m pip download --quiet --no-deps --only-binary=:all: --dest "$wheels" $spec
for whl in "$wheels"/*.whl; do
  case "$whl" in
    *-py3-none-any.whl) ;;
    *) echo "ci/gpu_wheels.sh: $whl is not a pure-Python wheel; the GPU machine could not use it" >&2; exit 1 ;;
  esac
done
echo "wheels in $wheels/: $(cd "$wheels" && ls ./*.whl | tr '\n' ' ')"

data_dir="${XCNN_DATA_DIR:-../shared/datasets}"
if [ -f "$data_dir/mnist.npz" ]; then
  mkdir -p gpu-data
  cp "$data_dir/mnist.npz" gpu-data/
  echo "copied $data_dir/mnist.npz to gpu-data/"
else
  echo "no mnist.npz in $data_dir (set XCNN_DATA_DIR): ci/gpu.sh will skip the MNIST runs"
fi
