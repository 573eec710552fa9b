"""The sending package's layout: imports run one way, and the old paths still work."""

import ast
import importlib
import sys
import warnings
from pathlib import Path

import pytest

import apigw_ws
import apigw_ws.sending

PACKAGE = Path(apigw_ws.sending.__file__).parent


def imported_siblings(path):
    """Return the modules of ``apigw_ws.sending`` that ``path`` imports, anywhere in it."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1:  # from .x import y / from . import x
                names = [node.module] if node.module else [a.name for a in node.names]
                found.update(n.split(".")[0] for n in names)
            elif node.module and node.module.startswith("apigw_ws.sending."):
                found.add(node.module.split(".")[2])
    return found - {"__init__"}


def test_no_module_of_the_package_imports_in_a_cycle_not_even_lazily():
    graph = {
        path.stem: imported_siblings(path)
        for path in PACKAGE.glob("*.py")
        if path.stem != "__init__"
    }
    assert graph["types"] == set()
    assert "sender" not in set().union(*graph.values())  # nothing below it knows it

    def visit(name, trail):
        assert name not in trail, " -> ".join([*trail, name])
        for other in graph[name]:
            visit(other, [*trail, name])

    for name in graph:
        visit(name, [])


@pytest.mark.parametrize(
    ("old", "names"),
    [
        ("apigw_ws.sender", ["Sender", "Endpoint", "Recipient", "DEFAULT_CONCURRENCY"]),
        ("apigw_ws.report", ["SendReport", "Failure"]),
    ],
)
def test_the_old_import_paths_still_work_and_warn(old, names):
    sys.modules.pop(old, None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        module = importlib.import_module(old)
    assert any(issubclass(w.category, DeprecationWarning) for w in caught)
    for name in names:
        assert getattr(module, name) is getattr(apigw_ws.sending, name, None) or getattr(
            module, name
        ) is getattr(apigw_ws.sending.sender, name)


def test_the_names_the_docs_taught_are_importable_from_the_package():
    from apigw_ws.sending import (  # noqa: F401
        MessageNotSerializable,
        MessageTooLarge,
        encode_message,
        endpoint_url,
        management_client,
    )

    assert apigw_ws.Sender is apigw_ws.sending.Sender
    assert apigw_ws.SendReport is apigw_ws.sending.SendReport
