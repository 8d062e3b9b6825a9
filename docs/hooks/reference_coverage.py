"""MkDocs hook: every public name of every public xcnn module must be in the API reference.

After the build, this reads the inventory mkdocstrings wrote (``site/objects.inv``: one line
per rendered object) and logs a warning, which fails ``mkdocs build --strict``, for

- each public module (no ``_`` in its dotted name, not ``__main__``) that no page renders, and
- each public name of such a module (its ``__all__``, else the functions and classes it
  defines without a leading ``_``) found neither under the module nor under the place it is
  defined (``xcnn.layers.Conv2D`` is rendered as ``xcnn.layers.convolutional.Conv2D``).

Dunder names (``__version__``) and submodules listed in a package's ``__all__`` are checked as
modules, not as names.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import os
import pkgutil
import zlib

log = logging.getLogger("mkdocs.hooks.reference_coverage")


def _inventory(site_dir: str) -> set[str]:
    with open(os.path.join(site_dir, "objects.inv"), "rb") as f:
        for _ in range(4):  # the Sphinx inventory header: project, version, compression note
            f.readline()
        text = zlib.decompress(f.read()).decode()
    return {line.split(" ", 1)[0] for line in text.splitlines() if line}


def _public_modules() -> list[str]:
    import xcnn

    names = ["xcnn"]
    for info in pkgutil.walk_packages(xcnn.__path__, "xcnn."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            names.append(info.name)
    return names


def _public_names(module):
    if hasattr(module, "__all__"):
        return list(module.__all__)
    return [
        name
        for name, obj in vars(module).items()
        if not name.startswith("_")
        and (inspect.isfunction(obj) or inspect.isclass(obj))
        and getattr(obj, "__module__", None) == module.__name__
    ]


def missing_from_reference(documented: set[str]) -> list[str]:
    """The public modules and names that ``documented`` (inventory identifiers) lacks."""
    missing = []
    for module_name in _public_modules():
        if module_name not in documented:
            missing.append(f"module {module_name}")
            continue
        module = importlib.import_module(module_name)
        for name in _public_names(module):
            if name.startswith("__"):
                continue
            obj = getattr(module, name)
            if inspect.ismodule(obj):
                if obj.__name__ not in documented:
                    missing.append(f"module {obj.__name__}")
                continue
            where = {f"{module_name}.{name}"}
            if inspect.isfunction(obj) or inspect.isclass(obj):
                where.add(f"{obj.__module__}.{obj.__qualname__}")
            if not where & documented:
                missing.append(f"{module_name}.{name}")
    return missing


def on_post_build(config):
    missing = missing_from_reference(_inventory(config["site_dir"]))
    for what in missing:
        log.warning(f"API reference: {what} is public but on no page under docs/reference/ (add a ::: line)")
