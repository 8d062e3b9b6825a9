#!/usr/bin/env bash
# CI: the documentation and code-health checks (issue 20), after ci/test.sh's tests.
#   ruff check   lint rules written down in pyproject.toml ([tool.ruff])
#   ruff format  formatting (--check: fails on any file `ruff format` would change)
#   mypy         types of xcnn/ ([tool.mypy])
#   mkdocs       the site, warnings as errors: broken links, pages outside the nav, public
#                names missing from the API reference (docs/hooks/reference_coverage.py)
#   gaps         every public function and class has a docstring, an example, a Raises section
#                where it raises, and type hints (ci/docstring_gaps.py --check)
#   pytest       every python block of the Markdown pages and every docstring example
# Installs what it needs (the docs and dev extras) into the CI virtualenv ci/test.sh made, or
# a new one. Run from anywhere: bash ci/docs.sh
set -euo pipefail
cd "$(dirname "$0")/.."

venv="${XCNN_CI_VENV:-.venv-ci}"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
# shellcheck disable=SC1091
. "$venv/bin/activate"
python -m pip install -q --upgrade pip
python -m pip install -q -e ".[test,docs,dev]"

export XCNN_DATA_DIR="${XCNN_DATA_DIR:-../shared/datasets}"
export MPLBACKEND=Agg NO_MKDOCS_2_WARNING=1

echo "== ruff check"
ruff check xcnn tests benchmarks examples docs/hooks ci
echo "== ruff format --check"
ruff format --check xcnn tests benchmarks examples docs/hooks ci
echo "== mypy"
mypy
echo "== mkdocs build --strict"
mkdocs build --strict
echo "== docstring gaps"
PYTHONPATH=. python ci/docstring_gaps.py --summary --check
echo "== documented examples"
python -m pytest -q -p no:cacheprovider tests/test_docs.py
