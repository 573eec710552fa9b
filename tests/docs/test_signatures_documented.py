"""Signatures written in the docs are the code's: names, order, kinds and defaults.

A signature is inline literal text such as ``connect(*, user=None, channel=None)``: a name
this test knows, then a parameter list that parses as one (calls with literal arguments,
``send("echo", {...})``, are examples, not signatures, and are left alone). It must list
exactly the parameters of the function it names; a default written as ``...`` stands for
any value.
"""

import ast
import inspect
import re

import pytest

import apigw_ws
from apigw_ws.hooks import specs
from apigw_ws.testing import Connection, GatewayClient, Outbox, Response, strategies
from apigw_ws.testing.pytest_plugin import PluginLoader

from .rst import flat, page

#: Pages whose signatures are checked, and what each documented name may be.
PAGES = ["plugins", "testing", "writing-plugins", "handlers"]
CANDIDATES = {
    "GatewayClient": [GatewayClient.__init__],
    "connect": [GatewayClient.connect],
    "send": [GatewayClient.send, Connection.send],
    "disconnect": [GatewayClient.disconnect],
    "post": [GatewayClient.post],
    "post_request": [GatewayClient.post_request],
    "fetch_token": [GatewayClient.fetch_token],
    "headers": [GatewayClient.headers],
    "assert_ok": [Response.assert_ok],
    "assert_refused": [Response.assert_refused],
    "assert_status": [Response.assert_status],
    "ws_plugins.add": [PluginLoader.add],
    "ws_plugins.block": [PluginLoader.block],
    **{
        f"ws_outbox.{name}": [func]
        for name, func in inspect.getmembers(Outbox, inspect.isfunction)
        if name[0] != "_"
    },
    **{
        name: [func]
        for name, func in inspect.getmembers(strategies, inspect.isfunction)
        if func.__module__ == strategies.__name__ and name[0] != "_"
    },
}
SIGNATURE = re.compile(r"``@?([\w.]+)\(([^`]*)\)``")


def register_signature():
    """Return the signature of the ``register`` callback: ``func``, then handler options."""
    options = inspect.signature(apigw_ws.handler).parameters.values()
    func = inspect.Parameter("func", inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return inspect.Signature(
        [func, *(p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in options)]
    )


def real_parameters(func):
    signature = func if isinstance(func, inspect.Signature) else inspect.signature(func)
    params = signature.parameters.values()
    return [(p.name, p.kind, p.default) for p in params if p.name != "self"]


def documented_parameters(text):
    """Return the parameters of ``text`` read as a ``def``'s, or ``None`` if it is no def."""
    try:
        tree = ast.parse(f"def f({text}): pass")
    except SyntaxError:
        return None
    args = tree.body[0].args
    kind = inspect.Parameter
    params = [(a.arg, kind.POSITIONAL_OR_KEYWORD) for a in args.args]
    if args.vararg:
        params.append((args.vararg.arg, kind.VAR_POSITIONAL))
    params += [(a.arg, kind.KEYWORD_ONLY) for a in args.kwonlyargs]
    if args.kwarg:
        params.append((args.kwarg.arg, kind.VAR_KEYWORD))
    positional_defaults = [None] * (len(args.args) - len(args.defaults)) + args.defaults
    defaults = positional_defaults + ([None] if args.vararg else []) + args.kw_defaults
    defaults += [None] if args.kwarg else []
    result = []
    for (name, k), default in zip(params, defaults, strict=True):
        if default is None:
            value = inspect.Parameter.empty
        else:
            try:
                value = ast.literal_eval(default)
            except ValueError:
                value = ast.unparse(default)
        result.append((name, k, value))
    return result


def _split(params):
    """Return the parameters in order, except keyword-only ones, which are by name."""
    keyword_only = inspect.Parameter.KEYWORD_ONLY
    ordered = [(n, k, d) for n, k, d in params if k != keyword_only]
    return ordered, {n: d for n, k, d in params if k == keyword_only}


def matches(documented, real):
    (doc_ordered, doc_named), (real_ordered, real_named) = _split(documented), _split(real)
    if [p[:2] for p in doc_ordered] != [p[:2] for p in real_ordered]:
        return False
    if doc_named.keys() != real_named.keys():
        return False
    pairs = [(d[2], r[2]) for d, r in zip(doc_ordered, real_ordered, strict=True)]
    pairs += [(doc_named[n], real_named[n]) for n in doc_named]
    return all(d is Ellipsis or d == r for d, r in pairs)


def documented_signatures(text):
    for match in SIGNATURE.finditer(flat(text)):
        name, params = match[1], match[2]
        if name not in CANDIDATES and name != "register":
            continue
        documented = documented_parameters(params)
        if documented is None or not ("=" in params or "*" in params):
            continue  # an example call, or a bare ``register(func)``
        yield name, params, documented


def check(text, where):
    wrong, seen = [], 0
    for name, params, documented in documented_signatures(text):
        seen += 1
        candidates = [register_signature()] if name == "register" else CANDIDATES[name]
        if not any(matches(documented, real_parameters(c)) for c in candidates):
            real = [str(inspect.signature(c)) if callable(c) else str(c) for c in candidates]
            wrong.append(f"{where}: {name}({params}) but the code has {' or '.join(real)}")
    return seen, wrong


@pytest.mark.parametrize("name", PAGES)
def test_every_documented_signature_is_the_codes(name):
    _, wrong = check(page(name), f"docs/{name}.rst")
    assert wrong == []


def test_the_register_signature_in_the_hook_docstring_is_the_codes():
    seen, wrong = check(specs.apigw_ws_register_handlers.__doc__, "the hookspec's docstring")
    assert seen == 1
    assert wrong == []


def test_the_pages_document_signatures_at_all():
    seen = {name: check(page(name), name)[0] for name in ["plugins", "testing"]}
    assert seen["plugins"] >= 1, "the register() signature is gone from docs/plugins.rst"
    assert seen["testing"] >= 15, seen


def test_a_signature_missing_an_option_would_fail():
    text = (
        '``register(func, *, route="$default", name=None, permissions=(), all_permissions=(),'
        " max_bytes=None, required_keys=())``"
    )
    _, wrong = check(text, "example")
    assert len(wrong) == 1
    assert "schema" in wrong[0]


def test_a_signature_with_a_wrong_default_would_fail():
    _, wrong = check("``ws_outbox.throttle(connection, times=2)``", "example")
    assert len(wrong) == 1
