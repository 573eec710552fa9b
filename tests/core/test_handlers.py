"""Handlers and the registry, without Django: names, routes, options, lookup."""

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import apigw_ws
from apigw_ws.errors import BadRequest, ConfigurationError, NotFound
from apigw_ws.handlers import (
    RESERVED_ROUTE_KEYS,
    Handler,
    HandlerRegistry,
    validate_handler_name,
    validate_route_key,
)
from apigw_ws.pipeline import check_route, select_handler
from apigw_ws.testing import strategies


def noop(ctx):
    """Do nothing; used as a handler."""


# -- names and routes -------------------------------------------------------------------


@given(strategies.handler_names())
def test_generated_handler_names_are_valid(name):
    assert validate_handler_name(name) == name


@pytest.mark.parametrize(
    "name",
    ["_private", "__init__", "", "1st", "-x", ".x", "a b", "a/b", "é", "a" * 65, "x\n", None, 3],
)
def test_invalid_handler_names_are_a_configuration_error(name):
    with pytest.raises(ConfigurationError):
        validate_handler_name(name)


def test_a_handler_name_of_64_characters_is_valid():
    assert validate_handler_name("a" * 64)


@pytest.mark.parametrize("route", ["$default", "chat", "presence-v2", "a_b"])
def test_default_and_custom_route_keys_are_valid(route):
    assert validate_route_key(route) == route


@pytest.mark.parametrize("route", sorted(RESERVED_ROUTE_KEYS))
def test_route_keys_that_shadow_the_predefined_urls_are_reserved(route):
    with pytest.raises(ConfigurationError, match="reserved"):
        validate_route_key(route)


@pytest.mark.parametrize(
    "route", ["$connect", "$disconnect", "$other", "", "_x", "a/b", "a b", "a" * 65, None]
)
def test_other_route_keys_are_a_configuration_error(route):
    with pytest.raises(ConfigurationError):
        validate_route_key(route)


# -- the decorator ----------------------------------------------------------------------


def test_handler_decorator_defaults_to_the_function_name_on_the_default_route():
    @apigw_ws.handler()
    def ping(ctx):
        return "pong"

    registered = HandlerRegistry().register(ping, plugin="p")
    assert (registered.name, registered.route, registered.plugin) == ("ping", "$default", "p")
    assert (registered.permissions, registered.all_permissions) == ((), ())
    assert registered.func is ping
    assert ping(None) == "pong"  # the decorator returns the function itself


def test_handler_decorator_options_reach_the_registered_handler():
    @apigw_ws.handler(
        "post",
        route="chat",
        permissions="chat.add_message",
        all_permissions=["chat.view_room", "chat.use_room"],
        max_bytes=512,
        required_keys=["text"],
    )
    def anything(ctx):
        pass

    h = HandlerRegistry().register(anything)
    assert h.key == ("chat", "post")
    assert h.permissions == ("chat.add_message",)
    assert h.all_permissions == ("chat.view_room", "chat.use_room")
    assert h.max_bytes == 512
    assert h.required_keys == ("text",)


def test_register_options_override_the_decorators():
    @apigw_ws.handler("one", route="chat")
    def func(ctx):
        pass

    h = HandlerRegistry().register(func, name="two")
    assert h.key == ("chat", "two")


def test_a_private_function_name_fails_at_decoration_not_at_the_first_message():
    with pytest.raises(ConfigurationError):

        @apigw_ws.handler()
        def _secret(ctx):
            pass


@pytest.mark.parametrize(
    "options",
    [
        {"route": "connect"},
        {"name": "_x"},
        {"permissions": [""]},
        {"all_permissions": [None]},
        {"max_bytes": 0},
        {"max_bytes": "10"},
        {"required_keys": [1]},
    ],
)
def test_invalid_decorator_options_fail_where_they_are_written(options):
    with pytest.raises(ConfigurationError):
        apigw_ws.handler(**options)(noop)


def test_a_handler_description_is_the_first_docstring_line_and_source_its_location():
    h = Handler(func=noop, name="noop")
    assert h.description == "Do nothing; used as a handler."
    assert h.source.endswith(f"test_handlers.py:{noop.__code__.co_firstlineno}")


# -- the registry -----------------------------------------------------------------------


def test_a_duplicate_route_and_name_is_refused_naming_the_first_plugin():
    registry = HandlerRegistry()
    registry.register(noop, name="x", plugin="first")
    with pytest.raises(ConfigurationError, match="already registered by plugin 'first'"):
        registry.register(noop, name="x", plugin="second")
    assert registry.get("$default", "x").plugin == "first"


def test_the_same_name_on_two_routes_is_two_handlers():
    registry = HandlerRegistry()
    registry.register(noop, name="x")
    registry.register(noop, name="x", route="chat")
    assert len(registry) == 2
    assert registry.routes() == {"$default", "chat"}


@pytest.mark.parametrize("func", [None, "noop", 3])
def test_registering_something_not_callable_is_a_configuration_error(func):
    with pytest.raises(ConfigurationError):
        HandlerRegistry().register(func, name="x")


def test_an_unknown_register_option_is_a_configuration_error():
    with pytest.raises(ConfigurationError, match="cannot register"):
        HandlerRegistry().register(noop, name="x", colour="red")


def test_a_lambda_needs_an_explicit_name():
    with pytest.raises(ConfigurationError):
        HandlerRegistry().register(lambda ctx: None)
    assert HandlerRegistry().register(lambda ctx: None, name="anon").name == "anon"


@pytest.fixture
def registry():
    registry = HandlerRegistry()
    registry.register(noop, name="default")
    registry.register(noop, name="say")
    registry.register(noop, name="status", route="presence")
    return registry


def test_a_body_without_the_handler_key_selects_the_routes_default(registry):
    assert select_handler(registry, "$default", {"text": "hi"}, "handler").name == "default"


def test_the_handler_key_is_configurable(registry):
    assert select_handler(registry, "$default", {"op": "say"}, "op").name == "say"
    assert select_handler(registry, "$default", {"handler": "nope"}, "op").name == "default"


@pytest.mark.parametrize(
    "name",
    ["_private", "__class__", "__init__", "nope", "Say", "say ", "status", "register", "get"],
)
def test_names_not_registered_on_the_route_are_refused_as_unknown_handler(registry, name):
    with pytest.raises(BadRequest) as info:
        select_handler(registry, "$default", {"handler": name}, "handler")
    assert info.value.public == "Unknown handler"


def test_a_route_without_a_default_handler_refuses_a_body_without_the_key(registry):
    with pytest.raises(BadRequest, match="no handler 'default' on route 'presence'"):
        select_handler(registry, "presence", {}, "handler")


@pytest.mark.parametrize("value", [None, 1, ["say"], {"name": "say"}, True])
def test_a_handler_key_that_is_not_a_string_is_refused(registry, value):
    with pytest.raises(BadRequest):
        select_handler(registry, "$default", {"handler": value}, "handler")


#: The registered names, near misses of them, and any text: each branch gets its share.
lookup_names = st.one_of(
    st.sampled_from(["default", "say", "status", "Say", "say ", "status\x00", "defaul"]),
    st.text(max_size=80),
)


@given(name=lookup_names, route=st.sampled_from(["$default", "presence", "other"]))
@example(name="say", route="$default")
@example(name="say", route="presence")
def test_lookup_resolves_exactly_the_names_registered_on_that_route(name, route):
    registry = HandlerRegistry()
    registry.register(noop, name="default")
    registry.register(noop, name="say")
    registry.register(noop, name="status", route="presence")
    registered = {("$default", "default"), ("$default", "say"), ("presence", "status")}
    if (route, name) in registered:
        found = select_handler(registry, route, {"handler": name}, "handler")
        assert (found.route, found.name) == (route, name)
    else:
        with pytest.raises(BadRequest) as info:
            select_handler(registry, route, {"handler": name}, "handler")
        assert info.value.public == "Unknown handler"  # not re-routed, not another error
        assert repr(name[:80]) in info.value.detail


def test_a_route_with_no_handlers_is_not_found(registry):
    check_route(registry, "presence")
    with pytest.raises(NotFound):
        check_route(registry, "chat")
    with pytest.raises(NotFound):
        check_route(registry, "$connect")
