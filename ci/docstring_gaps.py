"""List the public functions, classes and methods of xcnn whose documentation is incomplete.

    PYTHONPATH=. python ci/docstring_gaps.py [--summary] [--check]

Issue 20 asks that every public function and class have a docstring with argument shapes and
dtypes, what it raises, and a short example, and type hints. This prints, per public module
(the same set the API reference must cover, docs/hooks/reference_coverage.py), the names that
lack a docstring, an example (``>>>``), a ``Raises:`` section although their code raises, or
any type hint. It reports, with exit status 0; with ``--check`` (ci/docs.sh) it exits 1 when
any gap is left, now that none is.

An override counts as documented by its own docstring: a short one that says what is specific
to it (``As `Loss.value`: ...``) plus its example is enough, the base's Args/Returns are not
repeated (the API reference links the base by name). A callback's hooks (``on_epoch_end``, ...)
need no example of their own when their class has one: it runs them, through ``fit``, and a
copy of it under every hook showed nothing more.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "docs" / "hooks"))
from reference_coverage import _public_modules  # noqa: E402 - after the path it lives on


def _members(module):
    """``(dotted name, function or class, its class or None)`` defined in ``module``, with their
    public methods."""
    for name, obj in vars(module).items():
        if name.startswith("_") or not (inspect.isfunction(obj) or inspect.isclass(obj)):
            continue
        if getattr(obj, "__module__", None) != module.__name__:
            continue
        yield name, obj, None
        if inspect.isclass(obj):
            for attr, value in vars(obj).items():
                if attr.startswith("_") and attr not in ("__init__", "__call__"):
                    continue
                if isinstance(value, property):
                    value = value.fget
                if inspect.isfunction(value):
                    yield f"{name}.{attr}", value, obj


def _hook_run_by_class_example(obj, owner):
    """Whether ``obj`` is a hook of a callback class (not of ``Callback`` itself, whose hooks
    each show when they run) whose own example runs it through ``fit``."""
    from xcnn.callbacks import Callback

    return (
        owner is not None
        and owner is not Callback
        and issubclass(owner, Callback)
        and obj.__name__.startswith("on_")
        and ">>>" in (owner.__doc__ or "")
    )


def _raises(obj):
    try:
        return "raise " in inspect.getsource(obj)
    except (OSError, TypeError):
        return False


def gaps(module):
    """``{kind: [names]}`` for one module."""
    found = {"no docstring": [], "no example": [], "raises, no Raises section": [], "no type hints": []}
    for name, obj, owner in _members(module):
        doc = obj.__doc__ or ""
        constructor = name.endswith(("__init__", "__call__"))  # documented by the class
        if not constructor:
            if not doc.strip():
                found["no docstring"].append(name)
            elif ">>>" not in doc and not _hook_run_by_class_example(obj, owner):
                found["no example"].append(name)
        if inspect.isfunction(obj):
            if _raises(obj) and "Raises" not in doc and not constructor:
                found["raises, no Raises section"].append(name)
            if not obj.__annotations__:
                found["no type hints"].append(name)
    return found


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--summary", action="store_true", help="counts only, one line per module")
    parser.add_argument("--check", action="store_true", help="exit with status 1 if any gap is found")
    args = parser.parse_args(argv)
    totals = {}
    for module_name in _public_modules():
        found = gaps(importlib.import_module(module_name))
        for kind, names in found.items():
            totals[kind] = totals.get(kind, 0) + len(names)
        if not any(found.values()):
            continue
        if args.summary:
            print(f"{module_name}: " + ", ".join(f"{kind} {len(names)}" for kind, names in found.items() if names))
            continue
        print(f"## {module_name}")
        for kind, names in found.items():
            if names:
                print(f"- {kind} ({len(names)}): {', '.join(names)}")
    print("total: " + ", ".join(f"{kind} {n}" for kind, n in totals.items()))
    return 1 if args.check and any(totals.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
