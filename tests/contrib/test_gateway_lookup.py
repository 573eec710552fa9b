"""One gateway resolver (``ApiGateway.objects.resolve``), one URL builder, one region."""

import pytest

from apigw_ws.contrib.django import provisioning
from apigw_ws.contrib.django.models import ApiGateway, WebSocketSession
from apigw_ws.contrib.django.sending import endpoint_for
from apigw_ws.errors import ConfigurationError, GatewayNotFound
from apigw_ws.testing.client import new_connection_id

pytestmark = pytest.mark.django_db


def make(name, **fields):
    return ApiGateway.objects.create(api_name=name, **{"api_id": f"{name}12345", **fields})


# -- resolve --------------------------------------------------------------------------


def test_a_key_is_tried_as_api_name_then_api_id_then_pk_when_asked():
    alpha, beta = make("alpha"), make("beta", api_id="alpha")  # beta's id is alpha's name
    assert ApiGateway.objects.resolve("alpha") == alpha
    assert ApiGateway.objects.resolve("alpha12345") == alpha
    assert ApiGateway.objects.resolve(str(beta.pk), by=("api_name", "pk")) == beta
    with pytest.raises(GatewayNotFound, match=r"no ApiGateway has the api_name or api_id '\d+'"):
        ApiGateway.objects.resolve(str(beta.pk))


def test_a_blank_api_id_never_matches_a_row_without_one():
    make("blank", api_id="")
    with pytest.raises(GatewayNotFound) as missing:
        ApiGateway.objects.resolve("", by=("api_id",))
    assert missing.value.reason == "unknown"


def test_enabled_refuses_a_named_disabled_row_and_picks_among_enabled_ones_only():
    make("off", enabled=False)
    on = make("on")
    with pytest.raises(GatewayNotFound) as disabled:
        ApiGateway.objects.resolve("off", enabled=True)
    assert disabled.value.reason == "disabled"
    assert ApiGateway.objects.resolve("off").api_name == "off"
    assert ApiGateway.objects.resolve(enabled=True) == on
    with pytest.raises(GatewayNotFound, match="several gateways exist"):
        ApiGateway.objects.resolve()


def test_without_a_key_only_wants_one_and_first_takes_the_oldest():
    with pytest.raises(GatewayNotFound, match="no enabled ApiGateway exists") as none:
        ApiGateway.objects.resolve(enabled=True)
    assert none.value.reason == "none"
    older, _newer = make("zed"), make("abe")
    with pytest.raises(GatewayNotFound, match=r"\('abe', 'zed'\)") as several:
        ApiGateway.objects.resolve()
    assert several.value.reason == "several"
    assert ApiGateway.objects.resolve(pick="first") == older


def test_a_miss_is_a_configuration_error_worded_by_the_caller():
    with pytest.raises(ConfigurationError, match=r"^nothing called 'x', of none$"):
        ApiGateway.objects.resolve("x", messages={"unknown": "nothing called {key!r}, of {names}"})


def test_a_long_list_of_names_is_cut():
    for i in range(25):
        make(f"g{i:02}")
    with pytest.raises(GatewayNotFound) as several:
        ApiGateway.objects.resolve(messages={"several": "{names}"})
    assert str(several.value) == ", ".join(f"g{i:02}" for i in range(20)) + ", ..."


# -- URLs -----------------------------------------------------------------------------


def test_the_websocket_url_is_the_management_endpoint_with_a_websocket_scheme(settings):
    gateway = ApiGateway(api_name="eu", api_id="euapi45678", stage_name="live", region="eu-west-1")
    settings.APIGW_WS = {**settings.APIGW_WS, "ENDPOINT_URL": None}
    assert (
        gateway.management_endpoint == "https://euapi45678.execute-api.eu-west-1.amazonaws.com/live"
    )
    assert gateway.websocket_url == "wss://euapi45678.execute-api.eu-west-1.amazonaws.com/live"
    settings.APIGW_WS = {**settings.APIGW_WS, "ENDPOINT_URL": "http://127.0.0.1:8001/"}
    assert gateway.management_endpoint == "http://127.0.0.1:8001/live"
    assert gateway.websocket_url == "ws://127.0.0.1:8001/live"


# -- the region -----------------------------------------------------------------------


@pytest.fixture
def profile_region(settings, monkeypatch, tmp_path):
    """No region anywhere but in the configured profile's ``region``: eu-north-1."""
    config = tmp_path / "config"
    config.write_text(
        "[profile far]\nregion = eu-north-1\naws_access_key_id = k\naws_secret_access_key = s\n"
    )
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    settings.APIGW_WS = {
        **settings.APIGW_WS,
        "REGION": None,
        "AWS_PROFILE": "far",
        "ENDPOINT_URL": None,
    }
    return "eu-north-1"


def test_a_gateway_whose_region_comes_from_the_profile_is_sent_to_in_that_region(
    profile_region, ws_outbox
):
    gateway = make("far", region="")
    session = WebSocketSession.objects.create(
        connection_id=new_connection_id(), api_gateway=gateway
    )
    session.send_message({"hi": 1})
    stage = f"https://far12345.execute-api.{profile_region}.amazonaws.com/production"
    assert [m.endpoint for m in ws_outbox] == [stage]
    assert endpoint_for(gateway).region == profile_region
    assert provisioning.region_for(gateway) == profile_region  # where provisioning works
