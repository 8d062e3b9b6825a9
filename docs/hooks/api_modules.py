"""MkDocs hook: a package's reference page renders every public submodule it has.

``<!-- api-modules: xcnn.layers layer input_layer core -->`` in a page becomes one
``::: xcnn.layers.<name>`` block per public submodule of ``xcnn.layers``: first the ones
named, in that order (the order a reader meets them), then any others alphabetically. So a
new file in a package (a layer, a callback, an op) is in the reference without editing the
page. A name listed that is not a submodule is a warning, which fails ``--strict``.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
import re

log = logging.getLogger("mkdocs.hooks.api_modules")
MARKER = re.compile(r"<!--\s*api-modules:\s*(?P<package>[\w.]+)(?P<order>(?:\s+\w+)*)\s*-->")


def _expand(match, page):
    package_name = match.group("package")
    package = importlib.import_module(package_name)
    public = {info.name for info in pkgutil.iter_modules(package.__path__) if not info.name.startswith("_")}
    order = match.group("order").split()
    for name in order:
        if name not in public:
            log.warning(
                f"{page.file.src_path}: api-modules lists {package_name}.{name}, which is not a public submodule"
            )
    names = [n for n in order if n in public] + sorted(public - set(order))
    return "\n\n".join(f"::: {package_name}.{name}" for name in names)


def on_page_markdown(markdown, page, config, files):
    return MARKER.sub(lambda m: _expand(m, page), markdown)
