"""MkDocs hook: shows the docstrings' Sphinx roles as plain code in the API reference.

xcnn's docstrings still say :func:`conv2d`, :class:`~xcnn.models.Model` (reStructuredText),
which Markdown renders as ``:func:`` followed by the code. Until the docstrings are written in
Markdown with mkdocstrings cross-references (``[conv2d][xcnn.ops.conv.conv2d]``), this drops
the role and, as Sphinx does for ``~``, keeps only the last part of a ``~``-prefixed path.
"""

from __future__ import annotations

import re

ROLE = re.compile(r":(?:func|class|mod|meth|data|attr|exc|obj):<code>(~?)([^<]*)</code>")


def _plain(match):
    tilde, target = match.groups()
    return f"<code>{target.rsplit('.', 1)[-1] if tilde else target}</code>"


def on_page_content(html, page, config, files):
    return ROLE.sub(_plain, html)
