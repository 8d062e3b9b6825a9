#!/usr/bin/env bash
# CI step: install the LOWEST versions pyproject.toml declares (the dependencies and the `test`
# extra, each written "name>=version") into a fresh virtualenv, then run the fast tests on the
# NumPy backend. A floor that is too low (an API the code uses is missing) fails here.
# About 2-3 minutes: the installs, then `pytest -m "not slow"` on one backend.
set -euo pipefail
cd "$(dirname "$0")/.."

venv="${XCNN_MIN_VENV:-.venv-min}"
rm -rf "$venv"
python3 -m venv "$venv"
# shellcheck disable=SC1091
. "$venv/bin/activate"

pins=$(python - <<'PY'
import re
import sys

try:
    import tomllib
except ImportError:  # Python 3.10
    sys.exit("ci/min_versions.sh needs Python >= 3.11 (tomllib) to read pyproject.toml")
with open("pyproject.toml", "rb") as f:
    project = tomllib.load(f)["project"]
for requirement in project["dependencies"] + project["optional-dependencies"]["test"]:
    match = re.fullmatch(r"([A-Za-z0-9_.\-]+)>=([0-9][0-9.]*)", requirement.replace(" ", ""))
    if match is None:
        sys.exit(f"pyproject.toml: {requirement!r} is not 'name>=version'; this check needs a floor")
    print(f"{match[1]}=={match[2]}")
PY
)
echo "lowest declared versions: $(echo $pins)"
# shellcheck disable=SC2086
python -m pip install -q --only-binary=:all: $pins  # wheels only: a floor without one fails fast
python -m pip install -q --no-deps -e .
python -m pip list --format=freeze | grep -iE "^(numpy|array.api|safetensors|tqdm|pytest|hypothesis|matplotlib|pillow)" || true

export XCNN_DATA_DIR="${XCNN_DATA_DIR:-../shared/datasets}"
export MPLBACKEND=Agg XCNN_TEST_BACKENDS=numpy
# tests/keras_oracle compares with Keras, and the documented examples (tests/test_docs.py) use the
# optional extras (Keras, ONNX): neither is a dependency, so neither is a question of our floors
# (both run in ci/test.sh and ci/docs.sh, with the extras installed)
python -m pytest -q -x -p no:cacheprovider -m "not slow" --ignore=tests/keras_oracle --ignore=tests/test_docs.py tests
