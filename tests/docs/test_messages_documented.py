"""Every check id, client error text and command error message in the code is documented.

The messages are read from the source (``ast``), so a new one cannot be added without
docs/troubleshooting.rst (and, for check ids, docs/settings.rst) saying what it means.
"""

import ast
import importlib
import re

import apigw_ws
from apigw_ws.errors import RequestRefused

from .rst import ROOT, flat, page

PACKAGE = ROOT / "apigw_ws"
#: Exceptions whose message a management command prints as its last line.
PRINTED_ERRORS = {
    "CommandError",
    "ProvisioningError",
    "InvalidGatewaySpec",
    "IncumbentTablesMissing",
}
#: Constant parts of an f-string shorter than this ("no user ", " in ") say nothing alone.
MIN_FRAGMENT = 8


def sources():
    return sorted(p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts)


def trees():
    for path in sources():
        yield path, ast.parse(path.read_text(encoding="utf-8"))


def module_constants(tree):
    """The module-level ``NAME = "text"`` assignments of a module."""
    return {
        target.id: node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
        for target in node.targets
        if isinstance(target, ast.Name)
    }


def fragments(node, constants=None):
    """The constant text of a message argument: a str, a module constant, or the constant
    parts of an f-string."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.Name) and constants and node.id in constants:
        return [constants[node.id]]
    if isinstance(node, ast.JoinedStr):
        return [v.value for v in node.values if isinstance(v, ast.Constant)]
    return []


def printed_messages():
    found = []
    for path, tree in trees():
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and node.args):
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", None))
            if name == "InvalidGatewaySpec" and len(node.args) > 1:
                parts = fragments(node.args[1])
            elif name in PRINTED_ERRORS:
                parts = fragments(node.args[0])
            else:
                continue
            found += [(path.name, p.strip()) for p in parts if len(p.strip()) >= MIN_FRAGMENT]
    return found


def client_texts():
    """Every ``public`` text of a refusal, and every literal ``{"error": ...}`` body."""
    for module in ("apigw_ws.contrib.django.token_backend", "apigw_ws.contrib.django.views"):
        importlib.import_module(module)
    texts, todo = set(), [RequestRefused]
    while todo:
        cls = todo.pop()
        texts.add(cls.public)
        todo += cls.__subclasses__()
    for _, tree in trees():
        constants = module_constants(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.keyword) and node.arg == "public":
                texts.update(fragments(node.value, constants))
            if isinstance(node, ast.Dict):
                for key, value in zip(node.keys, node.values, strict=True):
                    if isinstance(key, ast.Constant) and key.value == "error":
                        texts.update(fragments(value))
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "_error":
                texts.update(fragments(node.args[0]))
    return texts


def check_ids_in_code():
    text = "".join(
        (PACKAGE / "contrib" / "django" / name).read_text(encoding="utf-8")
        for name in ("conf.py", "checks.py")
    )
    ids = set(re.findall(r"\b[EW]0\d\d\b", text))
    for number in re.findall(r'_check_options\([^)]*"(0\d\d)"\)', text):
        ids |= {"E" + number, "W" + number}
    return ids


def test_every_system_check_id_is_explained_in_troubleshooting_and_settings():
    code = check_ids_in_code()
    assert {"E001", "E010", "W001", "E030", "W031", "W040"} <= code, "id scan is broken"
    troubleshooting = set(re.findall(r"apigw_ws\.([EW]\d{3})", page("troubleshooting")))
    settings = set(re.findall(r"\b([EW]0\d\d)\b", page("settings")))
    assert code - troubleshooting == set(), "check ids missing from troubleshooting.rst"
    assert code - settings == set(), "check ids missing from settings.rst"
    assert troubleshooting - code == set(), "troubleshooting.rst explains ids that do not exist"


def test_every_text_a_client_can_receive_is_in_the_troubleshooting_table():
    texts = client_texts()
    assert {"Bad request", "Invalid or expired token", "Internal error"} <= texts, "scan broken"
    documented = page("troubleshooting")
    missing = sorted(t for t in texts if f"``{t}``" not in documented)
    assert missing == []


def test_every_message_a_command_can_end_with_is_in_troubleshooting():
    messages = printed_messages()
    assert len(messages) > 30, "message scan is broken"
    documented = flat(page("troubleshooting"))
    missing = sorted({(f, m) for f, m in messages if flat(m) not in documented})
    assert missing == []


def test_the_package_version_is_the_documented_release():
    # the changelog's first entry is the version being built
    assert apigw_ws.__version__.split(".dev")[0] in page("changelog")
