"""Route selection and configuration, without sockets."""

import pytest

from apigw_ws.devgateway import Faults, GatewayConfig, RouteSelector
from apigw_ws.errors import ConfigurationError


def select(body, routes=("$default", "chat"), expression="$request.body.action"):
    return RouteSelector.parse(expression, routes).select(body)


@pytest.mark.parametrize(
    ("body", "route"),
    [
        (b'{"action": "chat"}', "chat"),
        (b'{"action": "unknown"}', "$default"),
        (b'{"text": "no action"}', "$default"),
        (b'{"action": 5}', "$default"),
        (b'{"action": {"nested": 1}}', "$default"),
        (b'["action", "chat"]', "$default"),
        (b"not json", "$default"),
        (b"", "$default"),
        (b'{"action": "$connect"}', "$default"),
        (b'{"action": "$disconnect"}', "$default"),
    ],
)
def test_messages_go_to_the_route_their_action_names_else_default(body, route):
    assert select(body) == route


def test_messages_can_never_select_connect_or_disconnect_even_if_listed():
    assert select(b'{"action": "$connect"}', routes=("$default", "$connect")) == "$default"


def test_without_a_default_route_an_unmatched_message_has_no_route():
    assert select(b'{"action": "other"}', routes=("chat",)) is None
    assert select(b'{"action": "chat"}', routes=("chat",)) == "chat"


def test_dotted_paths_select_nested_keys():
    assert select(b'{"meta": {"route": "chat"}}', expression="$request.body.meta.route") == "chat"


def test_templates_join_literal_text_and_body_keys():
    selector = RouteSelector.parse("${request.body.a}-${request.body.b}", ("x-y",))
    assert selector.select(b'{"a": "x", "b": "y"}') == "x-y"
    assert selector.select(b'{"a": "x"}') is None


@pytest.mark.parametrize(
    "expression", ["$request.header.action", "action", "$request.body.", "${request.body.a}$x"]
)
def test_unsupported_expressions_are_refused_up_front(expression):
    with pytest.raises(ValueError, match="route selection expression"):
        RouteSelector.parse(expression, ("$default",))


def test_config_defaults_are_api_gateways_limits():
    config = GatewayConfig(target="http://127.0.0.1:8000/ws")
    assert config.target == "http://127.0.0.1:8000/ws/"
    assert (config.host, config.port, config.stage) == ("127.0.0.1", 8001, "local")
    assert config.integration_timeout == 29
    assert config.idle_timeout == 600
    assert config.max_duration == 7200
    assert config.max_frame_bytes == 32 * 1024
    assert config.max_payload_bytes == 131072
    assert config.has_route_response("$default")


def test_route_responses_can_be_limited_to_some_routes():
    config = GatewayConfig(
        target="http://x/ws/", routes={"$default", "chat"}, route_responses=["chat"]
    )
    assert config.has_route_response("chat")
    assert not config.has_route_response("$default")


@pytest.mark.parametrize(
    "options",
    [
        {"target": "ftp://x/ws/"},
        {"target": "http://x/ws/?q=1"},
        {"target": "http://x/ws/", "api_id": "bad id"},
        {"target": "http://x/ws/", "stage": "a/b"},
        {"target": "http://x/ws/", "idle_timeout": 0},
        {"target": "http://x/ws/", "integration_timeout": -1},
    ],
)
def test_bad_configuration_is_refused(options):
    with pytest.raises(ValueError, match="must"):
        GatewayConfig(**options)


def test_invalid_route_keys_are_refused():
    with pytest.raises(ConfigurationError):
        GatewayConfig(target="http://x/ws/", routes={"$default", "has space"})


@pytest.mark.parametrize(
    "options",
    [
        {"throttle_rate": 1.5},
        {"error_rate": -0.1},
        {"latency": -1},
        {"throttle_rate": 0.6, "error_rate": 0.6},
    ],
)
def test_bad_fault_settings_are_refused(options):
    with pytest.raises(ValueError, match="must"):
        Faults(**options)


def test_no_faults_by_default():
    assert not Faults().active
    assert Faults(gone="A").gone == frozenset({"A"})
