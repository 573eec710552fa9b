"""Loading plugins, the built-in permission and validator plugins, and the Django-free core.

With Django's own users and through the view: tests/contrib/test_permission_plugin.py.
"""

import subprocess
import sys
import textwrap
from importlib import metadata

import pytest

import apigw_ws
from apigw_ws import plugins as plugins_module
from apigw_ws.builtin_plugins import permissions, validators
from apigw_ws.context import MessageContext
from apigw_ws.events import Event
from apigw_ws.handlers import Handler
from apigw_ws.plugins import load_plugins


@pytest.fixture
def make_module(tmp_path, monkeypatch):
    """Write a module that ``importlib`` can find; forget it after the test."""
    monkeypatch.syspath_prepend(str(tmp_path))
    names = []

    def make(name, source):
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(source))
        names.append(name)
        return name

    yield make
    for name in names:
        sys.modules.pop(name, None)


GOOD_PLUGIN = """
    import apigw_ws

    @apigw_ws.handler()
    def hello(ctx):
        return "hi"

    @apigw_ws.hookimpl
    def apigw_ws_register_handlers(register):
        register(hello)
"""

EXPLODING_ON_IMPORT = """
    raise RuntimeError("this module must never be imported")
"""


def load(*modules, **kwargs):
    kwargs.setdefault("load_entry_points", False)
    return load_plugins(modules, **kwargs)


def problem_texts(loaded):
    return [str(problem) for problem in loaded.problems]


# -- loading ----------------------------------------------------------------------------


def test_a_blocked_plugin_is_never_imported(make_module):
    name = make_module("apigw_ws_test_blocked", EXPLODING_ON_IMPORT)
    loaded = load(name, blocked=[name])
    assert loaded.problems == ()
    assert name not in sys.modules
    assert [(i.name, i.blocked) for i in loaded.infos] == [(name, True)]


def test_a_blocked_entry_point_is_never_loaded(make_module, monkeypatch):
    name = make_module("apigw_ws_test_blocked_ep", EXPLODING_ON_IMPORT)
    entry_point = metadata.EntryPoint(name="boom", value=name, group="apigw_ws")
    monkeypatch.setattr(plugins_module, "_entry_points", lambda: [entry_point])
    loaded = load(blocked=["boom"], load_entry_points=True)
    assert loaded.problems == ()
    assert name not in sys.modules


def test_a_plugin_failing_to_import_is_reported_by_name_and_the_others_still_load(make_module):
    broken = make_module("apigw_ws_test_broken", EXPLODING_ON_IMPORT)
    good = make_module("apigw_ws_test_good", GOOD_PLUGIN)
    loaded = load(broken, good, "apigw_ws.builtin_plugins.validators")
    [problem] = loaded.problems
    assert problem.plugin == broken
    assert "RuntimeError: this module must never be imported" in problem.message
    assert loaded.registry.get("$default", "hello").plugin == good
    assert loaded.manager.has_plugin("apigw_ws.builtin_plugins.validators")


def test_a_missing_plugin_module_is_reported_by_name():
    loaded = load("apigw_ws_no_such_plugin_module")
    assert [p.plugin for p in loaded.problems] == ["apigw_ws_no_such_plugin_module"]
    assert "ModuleNotFoundError" in loaded.problems[0].message


def test_a_plugin_implementing_an_unknown_hook_is_reported_and_unregistered(make_module):
    typo = make_module(
        "apigw_ws_test_typo",
        """
        import apigw_ws

        @apigw_ws.hookimpl
        def apigw_ws_check_permision(context, handler):
            return False

        @apigw_ws.handler()
        def typo_handler(ctx):
            pass

        @apigw_ws.hookimpl
        def apigw_ws_register_handlers(register):
            register(typo_handler)
        """,
    )
    good = make_module("apigw_ws_test_good2", GOOD_PLUGIN)
    loaded = load(typo, good)
    [problem] = loaded.problems
    assert problem.plugin == typo
    assert "unknown hook" in problem.message
    assert "apigw_ws_check_permision" in problem.message
    assert not loaded.manager.has_plugin(typo)
    assert loaded.registry.get("$default", "typo_handler") is None
    assert loaded.registry.get("$default", "hello") is not None


def test_a_plugin_with_a_bad_hook_signature_is_reported(make_module):
    bad = make_module(
        "apigw_ws_test_badsig",
        """
        import apigw_ws

        @apigw_ws.hookimpl
        def apigw_ws_check_permission(context, handler, extra):
            return True
        """,
    )
    loaded = load(bad)
    assert [p.plugin for p in loaded.problems] == [bad]
    assert "invalid hook implementation" in loaded.problems[0].message


def test_a_plugin_raising_in_register_handlers_is_reported_and_others_keep_theirs(make_module):
    raising = make_module(
        "apigw_ws_test_raising",
        """
        import apigw_ws

        @apigw_ws.hookimpl
        def apigw_ws_register_handlers(register):
            raise KeyError("no config")
        """,
    )
    good = make_module("apigw_ws_test_good3", GOOD_PLUGIN)
    loaded = load(raising, good)
    assert [p.plugin for p in loaded.problems] == [raising]
    assert "raised in apigw_ws_register_handlers: KeyError('no config')" in problem_texts(loaded)[0]
    assert loaded.registry.get("$default", "hello").plugin == good


def test_a_handler_registered_by_two_plugins_is_reported_against_the_second_naming_the_first(
    make_module,
):
    first = make_module("apigw_ws_test_first", GOOD_PLUGIN)
    second = make_module("apigw_ws_test_second", GOOD_PLUGIN)
    loaded = load(first, second)
    [problem] = loaded.problems
    assert problem.plugin == second
    assert f"already registered by plugin {first!r}" in problem.message
    assert loaded.registry.get("$default", "hello").plugin == first


def test_a_plugin_listed_twice_is_reported_once_and_loaded_once(make_module):
    good = make_module("apigw_ws_test_twice", GOOD_PLUGIN)
    loaded = load(good, good)
    assert [p.message for p in loaded.problems] == [
        "is listed twice in APIGW_WS['PLUGINS']: remove the second entry (it is loaded once,"
        " from the first)"
    ]
    assert len(loaded.registry) == 1


def test_a_plugin_cannot_register_a_handler_under_another_plugins_name():
    def handler(ctx):
        pass

    class Spoofer:
        @apigw_ws.hookimpl
        def apigw_ws_register_handlers(self, register):
            register(handler, name="a", _plugin="apigw_ws.builtin_plugins.permissions")

    class Spoofer2:
        @apigw_ws.hookimpl
        def apigw_ws_register_handlers(self, register):
            register(handler, name="b", plugin="apigw_ws.builtin_plugins.permissions")

    loaded = load(objects=[("spoofer", Spoofer()), ("spoofer2", Spoofer2())])
    assert len(loaded.registry) == 0
    assert sorted(p.plugin for p in loaded.problems) == ["spoofer", "spoofer2"]


def test_handlers_record_the_plugin_that_registered_them():
    loaded = load("tests.plugins.chat")
    assert {h.plugin for h in loaded.registry} == {"tests.plugins.chat"}


class Backends:
    def __init__(self, token=None, store=None):
        self.token, self.store = token, store

    @apigw_ws.hookimpl
    def apigw_ws_token_backend(self):
        return self.token

    @apigw_ws.hookimpl
    def apigw_ws_rate_limit_store(self):
        return self.store


def test_token_backend_and_rate_limit_store_the_first_non_none_result_wins():
    # pluggy calls implementations last-registered first: "late" is asked first.
    loaded = load(
        objects=[
            ("early", Backends(token="early-token", store="early-store")),
            ("late", Backends(token="late-token", store="late-store")),
            ("abstains", Backends()),
        ]
    )
    assert loaded.token_backend == "late-token"
    assert loaded.rate_limit_store == "late-store"


def test_without_a_backend_plugin_there_is_no_token_backend_or_rate_limit_store():
    loaded = load(*apigw_ws.DEFAULT_PLUGINS)
    assert loaded.token_backend is None
    assert loaded.rate_limit_store is None
    assert loaded.problems == ()


# -- the permission plugin --------------------------------------------------------------


class User:
    def __init__(self, *perms, active=True):
        self.perms = set(perms)
        self.is_active = active

    def has_perm(self, perm):
        return self.is_active and perm in self.perms


def check(user, **options):
    handler = Handler(func=lambda ctx: None, name="h", **options)
    context = MessageContext(
        event=Event(route="default", connection_id="c", api_id="a", headers={}),
        body={},
        session=None,
        user=user,
    )
    return permissions.apigw_ws_check_permission(context=context, handler=handler)


def test_a_handler_without_permissions_makes_the_permission_plugin_abstain():
    assert check(User()) is None
    assert check(None) is None


@pytest.mark.parametrize(
    ("perms", "allowed"), [(("a",), True), (("b",), True), (("a", "b"), True), (("c",), False)]
)
def test_permissions_need_any_one_of_them(perms, allowed):
    assert check(User(*perms), permissions=["a", "b"]) is allowed


@pytest.mark.parametrize(
    ("perms", "allowed"), [(("a",), False), (("b",), False), (("a", "b"), True), ((), False)]
)
def test_all_permissions_need_every_one_of_them(perms, allowed):
    assert check(User(*perms), all_permissions=["a", "b"]) is allowed


@pytest.mark.parametrize(
    ("perms", "allowed"),
    [(("x",), False), (("a", "b"), False), (("x", "a"), False), (("x", "a", "b"), True)],
)
def test_with_both_set_both_must_hold(perms, allowed):
    assert check(User(*perms), permissions=["x", "y"], all_permissions=["a", "b"]) is allowed


def test_an_inactive_user_is_denied_even_holding_the_permission():
    class Stale(User):
        def has_perm(self, perm):  # a backend that forgets to check is_active
            return perm in self.perms

    assert check(Stale("a", active=False), permissions=["a"]) is False


@pytest.mark.parametrize("user", [None, object()])
def test_a_missing_or_unusual_user_is_denied(user):
    assert check(user, permissions=["a"]) is False


# -- the validators plugin --------------------------------------------------------------


def validate(body, raw=None, **options):
    handler = Handler(func=lambda ctx: None, name="h", **options)
    context = MessageContext(
        event=Event(
            route="default",
            connection_id="c",
            api_id="a",
            headers={},
            body=raw if raw is not None else b"{}",
        ),
        body=body,
        session=None,
        user=None,
    )
    return validators.apigw_ws_validate_message(context=context, handler=handler, body=body)


def test_a_body_within_the_handlers_limits_has_no_problems():
    assert validate({"text": "hi", "channel": "room-1"}, required_keys=["text"], max_bytes=10) == []


def test_a_body_over_the_handlers_max_bytes_is_a_problem():
    assert validate({}, raw=b"x" * 11, max_bytes=10) == ["body is 11 bytes, handler allows 10"]
    assert validate({}, raw=b"x" * 10, max_bytes=10) == []


def test_missing_required_keys_are_a_problem():
    assert validate({"a": 1}, required_keys=["a", "b", "c"]) == ["missing required keys ['b', 'c']"]


@pytest.mark.parametrize("channel", ["", "c" * 129, "a b", "../x", 5, None, ["lobby"]])
def test_a_channel_key_that_is_not_a_valid_channel_name_is_a_problem(channel):
    [problem] = validate({"channel": channel})
    assert problem.startswith("invalid channel")


# -- the core is free of Django ---------------------------------------------------------


def test_the_core_imports_no_django():
    code = (
        "import apigw_ws, apigw_ws.plugins, apigw_ws.pipeline, apigw_ws.testing.strategies, sys;"
        " loaded = [m for m in sys.modules if m == 'django' or m.startswith('django.')];"
        " assert not loaded, loaded"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
