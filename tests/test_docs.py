"""The documentation's examples run, so the docs cannot drift from the code.

- Every ```python block of README.md, CONTRIBUTING.md and docs/**/*.md runs, the blocks of one
  file in order in one namespace (a later block may use an earlier one's names), in a fresh
  working directory. A block preceded by the line ``<!-- docs-test: skip (reason) -->`` is only
  compiled; the reason is required. Blocks that load a data set skip when $XCNN_DATA_DIR does
  not hold it (the tests never download).
- Every ``>>>`` example in xcnn's docstrings runs (doctest), one test per module.
- ``xcnn --version`` and the top-level help, which the docs quote.
"""

import doctest
import importlib
import os
import pkgutil
import re
from pathlib import Path

import pytest

import xcnn
from xcnn import cli

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted(
    [ROOT / "README.md", ROOT / "CONTRIBUTING.md"]
    + [p for p in (ROOT / "docs").rglob("*.md") if "hooks" not in p.parts]
)
FENCE = re.compile(r"^(?P<indent>[ \t]*)```python[ \t]*\n(?P<code>.*?)^(?P=indent)```[ \t]*$", re.S | re.M)
SKIP = re.compile(r"<!--\s*docs-test:\s*skip\b(?P<reason>.*?)-->")
DATA_SET = re.compile(r"\b(mnist|fashion_mnist|cifar10)\.load_data\(|load_data\(\s*[\"'](\w+)")


def python_blocks(text):
    """``(line, code, skip_reason)`` of each ```python block; skip_reason None unless marked."""
    blocks = []
    for match in FENCE.finditer(text):
        before = text[: match.start()].rstrip().rsplit("\n", 1)[-1]
        marker = SKIP.search(before)
        reason = None
        if marker:
            reason = marker.group("reason").strip().strip("()").strip()
            if not reason:
                raise ValueError(
                    f"line {text.count(chr(10), 0, match.start()) + 1}: "
                    "<!-- docs-test: skip --> needs a reason in parentheses"
                )
        indent = match.group("indent")
        code = "".join(
            line[len(indent) :] if line.startswith(indent) else line
            for line in match.group("code").splitlines(keepends=True)
        )
        blocks.append((text.count("\n", 0, match.start()) + 2, code, reason))
    return blocks


def _missing_data_sets(code):
    names = {a or b for a, b in DATA_SET.findall(code)}
    folder = os.environ.get("XCNN_DATA_DIR", "")
    return sorted(n for n in names if not os.path.exists(os.path.join(folder, f"{n}.npz")))


def test_fence_parser_finds_blocks_and_skip_markers():
    text = (
        "x\n```python\na = 1\n```\n\n<!-- docs-test: skip (needs a GPU) -->\n```python\nb = 2\n```\n"
        "- item\n\n    ```python\n    c = 3\n    ```\n```bash\nls\n```\n"
    )
    assert python_blocks(text) == [(3, "a = 1\n", None), (8, "b = 2\n", "needs a GPU"), (13, "c = 3\n", None)]
    with pytest.raises(ValueError, match="needs a reason"):
        python_blocks("<!-- docs-test: skip -->\n```python\nb = 2\n```\n")


def _pages_with_examples():
    return [p for p in PAGES if p.exists() and "```python" in p.read_text(encoding="utf-8")]


def test_pages_with_examples_are_collected():
    assert {"README.md", "index.md", "keras.md"} <= {p.name for p in _pages_with_examples()}


@pytest.mark.parametrize("page", _pages_with_examples(), ids=lambda p: str(p.relative_to(ROOT)))
def test_markdown_examples_run(page, tmp_path, monkeypatch):
    blocks = python_blocks(page.read_text(encoding="utf-8"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    namespace = {"__name__": f"docs_{page.stem}"}
    ran = 0
    for line, code, skip_reason in blocks:
        compiled = compile(code, f"{page.relative_to(ROOT)}:{line}", "exec")
        if skip_reason is not None:
            continue
        missing = _missing_data_sets(code)
        if missing:
            pytest.skip(f"{page.name}:{line} needs {missing} in $XCNN_DATA_DIR")
        try:
            exec(compiled, namespace)  # noqa: S102 - running the documentation's own examples is the point
        except ModuleNotFoundError as exc:
            _skip_if_optional(exc, f"{page.name}:{line}")
            raise
        ran += 1
    assert ran or all(reason for _, _, reason in blocks)


# The optional extras some examples use (Keras files, ONNX, TensorBoard, MPI, other backends):
# where one is not installed (the README's `.[test]` install) those examples skip, naming it;
# ci/docs.sh installs them all, so there every example runs.
OPTIONAL_PACKAGES = {"keras", "h5py", "onnx", "onnxruntime", "tensorboardX", "tensorboard", "mpi4py", "torch", "cupy"}


def _skip_if_optional(exc, where):
    name = (exc.name or "").split(".")[0]
    if name in OPTIONAL_PACKAGES:
        pytest.skip(f"{where} needs the optional package {name}, which is not installed")


class _Runner(doctest.DocTestRunner):
    """Records the examples that failed because an optional package is missing.

    A docstring whose example needs a missing extra (a CuPy or NCCL example on a CPU machine)
    is left out of the count: its failures are the extra's absence (the examples after the
    import fail with it). The module's other docstrings still count.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.missing = []
        self.failed_without_extra = 0  # failures in docstrings that hit a missing extra

    def run(self, test, *args, **kwargs):
        missing_before = len(self.missing)
        result = super().run(test, *args, **kwargs)
        if len(self.missing) > missing_before:
            self.failed_without_extra += result.failed
        return result

    def report_unexpected_exception(self, out, test, example, exc_info):
        exc = exc_info[1]
        cause = exc if isinstance(exc, ModuleNotFoundError) else exc.__context__ or exc.__cause__
        if isinstance(cause, ModuleNotFoundError) and (cause.name or "").split(".")[0] in OPTIONAL_PACKAGES:
            self.missing.append(cause)
        super().report_unexpected_exception(out, test, example, exc_info)


def test_a_missing_extra_skips_only_the_docstrings_that_need_it(monkeypatch):
    import sys

    monkeypatch.setattr(sys.modules[__name__], "OPTIONAL_PACKAGES", {*OPTIONAL_PACKAGES, "xcnn_absent_extra"})
    parser = doctest.DocTestParser()
    needs_extra = parser.get_doctest(">>> import xcnn_absent_extra\n>>> xcnn_absent_extra.f()\n", {}, "a", None, 0)
    wrong = parser.get_doctest(">>> 1 + 1\n3\n", {}, "b", None, 0)
    runner = _Runner()
    for test in (needs_extra, wrong):
        runner.run(test, out=lambda text: None)
    result = runner.summarize(verbose=False)
    assert [exc.name for exc in runner.missing] == ["xcnn_absent_extra"]
    # both examples of the first docstring are the extra's absence; the wrong sum still counts
    assert result.failed - runner.failed_without_extra == 1


def _modules():
    names = ["xcnn"]
    for info in pkgutil.walk_packages(xcnn.__path__, "xcnn."):
        if not info.name.endswith("__main__"):
            names.append(info.name)
    return names


def _docstring_examples(module_name):
    finder = doctest.DocTestFinder(exclude_empty=True)
    return [t for t in finder.find(importlib.import_module(module_name), module_name) if t.examples]


def test_docstring_examples_are_collected():
    assert "xcnn" in [name for name in _modules() if _docstring_examples(name)]


# one test per module that has examples (modules without any are listed nowhere: the API
# reference shows which docstrings lack an example)
@pytest.mark.parametrize("module_name", [name for name in _modules() if _docstring_examples(name)])
def test_docstring_examples_run(module_name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runner = _Runner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in _docstring_examples(module_name):
        runner.run(test)
    result = runner.summarize(verbose=False)
    failed = result.failed - runner.failed_without_extra
    assert failed == 0, f"{failed} of {result.attempted} docstring examples failed in {module_name}"
    if runner.missing:  # an extra not installed: its docstrings did not run
        _skip_if_optional(runner.missing[0], module_name)


def test_version_flag(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"xcnn {xcnn.__version__}"


def test_help_is_plain_words(capsys):
    parser = cli.build_parser()
    subparsers = next(a for a in parser._actions if a.dest == "command")
    for p in [parser, *subparsers.choices.values()]:
        text = p.format_help()
        assert "`" not in text, f"{p.prog} --help shows markup: {text}"
        assert ":mod:" not in text and ":func:" not in text
