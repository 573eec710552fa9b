"""Small readers of the reStructuredText sources, for the tests that keep the docs honest."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

DOCS = Path(__file__).resolve().parents[2] / "docs"
ROOT = DOCS.parent

_UNDERLINE = re.compile(r"^([=\-~^\"'`#*+])\1{2,}$")
_CODE_BLOCK = re.compile(
    r"^(?P<indent> *)\.\. code-block:: (?P<lang>\S+)\n(?:(?P=indent) +:.*\n)*\n"
    r"(?P<body>(?:(?P=indent) +\S.*\n|[ \t]*\n)+)",
    re.MULTILINE,
)


def page(name: str) -> str:
    """Return the source of ``docs/<name>.rst``."""
    return (DOCS / f"{name}.rst").read_text(encoding="utf-8")


def pages() -> list[str]:
    """Return the names of every page, without ``.rst``."""
    return sorted(p.stem for p in DOCS.glob("*.rst"))


def headings(text: str) -> list[str]:
    """Return the section titles of a page, in order (titles underlined with punctuation)."""
    lines = text.splitlines()
    return [
        lines[i - 1].strip()
        for i in range(1, len(lines))
        if _UNDERLINE.match(lines[i]) and lines[i - 1].strip() and len(lines[i]) >= 3
    ]


def flat(text: str) -> str:
    """Return ``text`` with every run of whitespace made one space."""
    return " ".join(text.split())


def code_blocks(text: str, lang: str) -> list[str]:
    """Return the dedented bodies of the ``.. code-block:: <lang>`` directives of a page."""
    return [
        textwrap.dedent(m["body"]).strip() + "\n"
        for m in _CODE_BLOCK.finditer(text)
        if m["lang"] == lang
    ]


def list_table_rows(text: str, section: str) -> list[list[str]]:
    """Return the rows (lists of cells, whitespace-flattened) of the list-table in ``section``."""
    start = text.index(f"\n{section}\n")
    end = text.find("\n.. list-table::", text.index(".. list-table::", start) + 1)
    next_heading = re.search(r"\n\S.*\n[-=~]{3,}\n", text[start + len(section) + 2 :])
    stop = start + len(section) + 2 + next_heading.start() if next_heading else len(text)
    if end != -1:
        stop = min(stop, end)
    body = text[text.index(".. list-table::", start) : stop]
    rows = []
    for chunk in re.split(r"\n\s*\* - ", body)[1:]:
        cells = re.split(r"\n\s+- ", "\n" + chunk)
        rows.append([flat(c) for c in cells if c.strip()])
    return rows
