"""docs/settings.rst lists every APIGW_WS key and nested key with the default in conf.py."""

import ast
import re

from apigw_ws.contrib.django.conf import DEFAULTS

from .rst import list_table_rows, page

NESTED_KEY = re.compile(r'^``(?P<outer>[A-Z_]+)\["(?P<inner>[A-Z_]+)"\]``$')


def literal(cell):
    """The Python value written in a ``...`` cell."""
    assert cell.startswith("``"), cell
    assert cell.endswith("``"), cell
    return ast.literal_eval(cell[2:-2])


def top_level_rows():
    return {row[0].strip("`"): row for row in list_table_rows(page("settings"), "Keys")[1:]}


def nested_rows():
    rows = list_table_rows(page("settings"), "Keys inside the dict settings")[1:]
    found = {}
    for row in rows:
        match = NESTED_KEY.match(row[0])
        assert match, f"not a nested key cell: {row[0]!r}"
        found[(match["outer"], match["inner"])] = row
    return found


def test_every_setting_is_documented_and_nothing_else():
    assert set(top_level_rows()) == set(DEFAULTS)


def test_every_documented_top_level_default_is_the_one_in_conf():
    for key, row in top_level_rows().items():
        assert literal(row[2]) == DEFAULTS[key], key


def test_every_nested_key_is_documented_with_its_default():
    expected = {
        (outer, inner): value
        for outer, default in DEFAULTS.items()
        if isinstance(default, dict)
        for inner, value in default.items()
    }
    rows = nested_rows()
    assert set(rows) == set(expected)
    for key, row in rows.items():
        assert literal(row[1]) == expected[key], key


def test_the_row_parser_reads_cells_not_prose():
    # guards the parser itself: a row is key, type, default, meaning
    row = top_level_rows()["HANDLER_KEY"]
    assert row[:3] == ["``HANDLER_KEY``", "non-empty str", '``"handler"``']
