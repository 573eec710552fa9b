"""What a plugin author reads when two plugins collide: both names, what stays, what to do."""

import apigw_ws
from apigw_ws.plugins import load_plugins


def ping(ctx):
    return "a"


def other(ctx):
    return "b"


class First:
    @apigw_ws.hookimpl
    def apigw_ws_register_handlers(self, register):
        register(ping, name="ping")


class Second:
    @apigw_ws.hookimpl
    def apigw_ws_register_handlers(self, register):
        register(other, name="before")
        register(other, name="ping")
        register(other, name="after")


def load(*objects):
    return load_plugins((), load_entry_points=False, objects=objects)


def test_a_duplicate_handler_names_both_plugins_the_handler_and_what_stays():
    loaded = load(("first", First()), ("second", Second()))
    [problem] = loaded.problems
    assert problem.plugin == "second"
    assert problem.message.startswith(
        "registered an invalid handler: handler 'ping' on route '$default' is already"
        " registered by plugin 'first', and plugin 'second' registers it again;"
        " 'first' keeps it."
    )
    assert "'second' keeps the handlers it registered before this one and loses the rest" in (
        problem.message
    )
    assert "second.ping" in problem.message  # the rename that avoids the clash
    assert "BLOCKED_PLUGINS" in problem.message


def test_what_the_duplicate_message_says_stays_is_what_stays():
    loaded = load(("first", First()), ("second", Second()))
    handlers = {(h.name, h.plugin) for h in loaded.registry}
    assert handlers == {("ping", "first"), ("before", "second")}


def test_a_plugin_added_twice_is_told_to_add_it_once_not_to_block_it():
    loaded = load(("first", First()), ("first", First()))
    [problem] = loaded.problems
    assert problem.message == "is added twice under that name: add it once (the first is loaded)"
    assert "BLOCKED_PLUGINS" not in problem.message
