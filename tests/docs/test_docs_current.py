"""The docs describe the code as it is: no "planned" features, the installed version.

A page that says a feature is planned, or shows ``apigw-ws`` at a version that is not the
package's, was true once and is no longer; these tests say where.
"""

import re

import apigw_ws

from .rst import ROOT, page, pages

#: Pages allowed to speak of the future or of other versions: the release history.
HISTORY = {"changelog", "release"}
NOT_YET = re.compile(
    r"\bplanned\b|\buntil it exists\b|\bnot (?:yet )?implemented\b|\bcoming soon\b|\bTODO\b",
    re.IGNORECASE,
)
VERSION = r"\d+\.\d+(?:\.\d+)?(?:\.?(?:dev|a|b|rc)\d+)?"
#: ``apigw-ws`` (the distribution, not ``apigw-ws-greetings``) followed by a version, as
#: in pip's and the commands' tables; or "version X" said of apigw_ws itself.
OUR_VERSION = re.compile(rf"(?<![\w-])apigw[-_]ws(?:``)?\s+(?:``)?({VERSION})\b")
RELEASE_SENTENCE = re.compile(
    rf"\b(?:This release|Version)\s+\(?(?:``)?({VERSION})(?:``)?\)?\s+is not on PyPI"
)


def texts():
    yield "README.md", (ROOT / "README.md").read_text()
    for name in pages():
        if name not in HISTORY:
            yield f"docs/{name}.rst", page(name)


def test_no_page_calls_anything_planned():
    found = [
        f"{where}:{text.count(chr(10), 0, m.start()) + 1}: {m[0]!r}"
        for where, text in texts()
        for m in NOT_YET.finditer(text)
    ]
    assert found == []


def test_the_marker_check_would_catch_the_old_wording():
    old = "Planned: the ``ws_gateway`` command will create the API. Until it exists, ..."
    assert len(NOT_YET.findall(old)) == 2


def test_every_version_shown_for_apigw_ws_is_the_installed_one():
    shown = [
        (where, m[1])
        for where, text in texts()
        for pattern in (OUR_VERSION, RELEASE_SENTENCE)
        for m in pattern.finditer(text)
    ]
    assert ("docs/writing-plugins.rst", apigw_ws.__version__) in shown
    assert ("docs/installation.rst", apigw_ws.__version__) in shown
    assert [s for s in shown if s[1] != apigw_ws.__version__] == []


def test_the_version_check_would_catch_a_table_row_of_another_version():
    row = "apigw_ws.builtin_plugins.validators   settings     apigw-ws            1.0.0    loaded"
    assert OUR_VERSION.findall(row) == ["1.0.0"]
    assert OUR_VERSION.findall("apigw-ws-greetings  0.1.0") == []
