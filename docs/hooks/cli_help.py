"""MkDocs hook: replaces ``<!-- xcnn-help: train -->`` in a page with the text of
``xcnn train --help``, taken from :func:`xcnn.cli.build_parser` while the site builds, so the
CLI page cannot drift from cli.py. ``<!-- xcnn-help: -->`` (no command) is the top-level help.
"""

from __future__ import annotations

import os
import re

MARKER = re.compile(r"<!-- xcnn-help:\s*(\S*)\s*-->")


def _help_text(command: str) -> str:
    from xcnn import cli

    parser = cli.build_parser()
    if command:
        # argparse keeps the subcommand parsers in the subparsers action's choices
        subparsers = next(a for a in parser._actions if a.dest == "command")
        if command not in subparsers.choices:
            raise ValueError(
                f"<!-- xcnn-help: {command} -->: no such xcnn command; known: {sorted(subparsers.choices)}"
            )
        parser = subparsers.choices[command]
    return parser.format_help().rstrip()


def on_page_markdown(markdown, page, config, files):
    if "xcnn-help:" not in markdown:
        return markdown
    # argparse wraps to $COLUMNS: fix it so the page is the same on every machine
    saved = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "100"
    try:
        return MARKER.sub(lambda m: "```text\n" + _help_text(m.group(1)) + "\n```", markdown)
    finally:
        if saved is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = saved
