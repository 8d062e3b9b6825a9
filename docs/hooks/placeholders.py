"""MkDocs hook: a placeholder page for each guide that is being written on another branch.

The nav names ``distributed.md`` and ``interop.md``, the pages that the distributed-training
and interoperability work (issues 17 and 18) add to docs/. Until a page exists there, this
serves ``docs/hooks/placeholders/<page>`` in its place, saying the feature is being built;
once the real page is in docs/, it wins and the placeholder is not used. Delete a placeholder
when its page has landed.
"""

from __future__ import annotations

from pathlib import Path

from mkdocs.structure.files import File

FOLDER = Path(__file__).resolve().parent / "placeholders"


def on_files(files, config):
    for placeholder in sorted(FOLDER.glob("*.md")):
        if files.get_file_from_path(placeholder.name) is None:
            files.append(File.generated(config, placeholder.name, abs_src_path=str(placeholder)))
    return files
