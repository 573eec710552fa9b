"""The API reference lists every public name of the app's modules that the core relies on."""

import re

from tests.core.imports import declared_public, modules

from .rst import list_table_rows, page

APP = "apigw_ws.contrib.django"


def documented():
    rows = list_table_rows(page("api"), "The Django app's public modules")
    return {row[0].strip("`"): set(re.findall(r"``(\w+)", row[1])) for row in rows[1:]}


def test_every_app_module_with_an_all_is_documented_with_each_public_name():
    table = documented()
    public = {
        name.removeprefix(f"{APP}."): declared_public(path)
        for name, path in modules().items()
        if name.startswith(f"{APP}.") and declared_public(path) is not None
    }
    assert "channel_access" in public
    assert set(table) == set(public)
    missing = {module: sorted(names - table[module]) for module, names in public.items()}
    assert {m: names for m, names in missing.items() if names} == {}
