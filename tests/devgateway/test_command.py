"""``manage.py ws_devgateway``: which gateway it emulates, and what it warns about."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from apigw_ws.contrib.django.models import ApiGateway
from apigw_ws.devgateway import DevGateway

pytestmark = pytest.mark.django_db


@pytest.fixture
def started(monkeypatch):
    """Replace serving with one call of the start-up callback; return the config used."""
    seen = {}

    def run(self, on_start=None):
        self._port = self.config.port
        seen["config"] = self.config
        on_start(self)

    monkeypatch.setattr(DevGateway, "run", run)
    return seen


def devgateway(*args):
    out, err = StringIO(), StringIO()
    call_command("ws_devgateway", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def local_row(**fields):
    defaults = {
        "api_name": "local",
        "api_id": "local",
        "stage_name": "dev",
        "target_base_endpoint": "http://127.0.0.1:8000/ws/",
    }
    return ApiGateway.objects.create(**{**defaults, **fields})


def test_without_an_enabled_gateway_it_explains_how_to_create_one(started):
    ApiGateway.objects.create(api_name="off", api_id="off", enabled=False)
    with pytest.raises(CommandError, match="no enabled ApiGateway") as refused:
        devgateway()
    assert "ApiGateway.objects.create" in str(refused.value)
    assert "config" not in started


def test_with_several_enabled_gateways_it_asks_which(started):
    local_row()
    local_row(api_name="other", api_id="other")
    with pytest.raises(CommandError, match="--gateway"):
        devgateway()


def test_emulates_the_only_enabled_gateway_with_the_registered_routes(started, settings):
    local_row(route_selection_expression="$request.body.route")
    out, _ = devgateway("--port", "8123")
    config = started["config"]
    assert (config.api_id, config.stage, config.port) == ("local", "dev", 8123)
    assert config.target == "http://127.0.0.1:8000/ws/"
    assert config.routes == {"$default", "presence"}  # tests.plugins.chat's routes
    assert config.route_selection_expression == "$request.body.route"
    assert config.secret == settings.TEST_GATEWAY_SECRET
    assert "ws://127.0.0.1:8123/dev" in out
    assert "POST http://127.0.0.1:8000/ws/presence" in out


def test_gateway_and_target_flags_pick_the_row_and_override_its_target(started):
    local_row()
    local_row(api_name="second", api_id="second", stage_name="s2")
    devgateway("--gateway", "second", "--target", "http://localhost:9000/api/ws")
    config = started["config"]
    assert (config.api_id, config.stage) == ("second", "s2")
    assert config.target == "http://localhost:9000/api/ws/"


def test_fault_and_limit_flags_reach_the_gateway(started):
    local_row()
    devgateway(
        "--idle-timeout",
        "5",
        "--throttle-rate",
        "0.25",
        "--gone",
        "AAAA",
        "--route-responses",
        "none",
        "--no-keep-alive",
    )
    config = started["config"]
    assert config.idle_timeout == 5
    assert config.faults.throttle_rate == 0.25
    assert config.faults.gone == {"AAAA"}
    assert not config.has_route_response("$default")
    assert not config.keep_alive


def test_warns_when_endpoint_url_does_not_point_at_the_gateway(started, settings):
    local_row()
    _, err = devgateway("--port", "8001")
    assert "ENDPOINT_URL" in err
    settings.APIGW_WS = {**settings.APIGW_WS, "ENDPOINT_URL": "http://localhost:8001/"}
    _, err = devgateway("--port", "8001")
    assert "ENDPOINT_URL" not in err


@pytest.mark.parametrize(
    ("fields", "message"),
    [({"api_id": ""}, "no API id"), ({"target_base_endpoint": ""}, "no target base endpoint")],
)
def test_a_row_that_cannot_be_emulated_is_refused_with_the_reason(started, fields, message):
    local_row(**fields)
    with pytest.raises(CommandError, match=message):
        devgateway()


def test_unknown_or_disabled_gateway_names_are_refused(started):
    local_row(api_name="off", api_id="off", enabled=False)
    with pytest.raises(CommandError, match="No ApiGateway named 'nope'"):
        devgateway("--gateway", "nope")
    with pytest.raises(CommandError, match="disabled"):
        devgateway("--gateway", "off")
