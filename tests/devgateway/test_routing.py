"""The gateway's configuration, without sockets (route selection: tests/core/test_protocol.py)."""

import pytest

from apigw_ws.devgateway import Faults, GatewayConfig
from apigw_ws.errors import ConfigurationError


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
