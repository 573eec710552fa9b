"""The template tags and view mixins that put the JS client and its options into a page."""

import json
import re

import pytest
from django.template import Context, Template
from django.test import RequestFactory
from django.views.generic import TemplateView
from hypothesis import example, given
from hypothesis import strategies as st

from apigw_ws.contrib.django.mixins import AppChannelWebSocketMixin, WebSocketMixin
from apigw_ws.contrib.django.models import ApiGateway
from apigw_ws.contrib.django.page_config import app_channel_name, client_config, websocket_url
from apigw_ws.errors import ConfigurationError
from apigw_ws.validation import channel_name_problem

pytestmark = pytest.mark.django_db


@pytest.fixture
def gateway():
    return ApiGateway.objects.create(
        api_name="prod", api_id="abc123defg", stage_name="live", region="eu-west-1"
    )


def render(source, **context):
    return Template("{% load apigw_ws %}" + source).render(Context(context))


def config_of(html, element_id="apigw-ws-config"):
    match = re.search(
        rf'<script id="{element_id}" type="application/json">(.*?)</script>', html, re.S
    )
    assert match, html
    return json.loads(match.group(1))


# -- the WebSocket URL ------------------------------------------------------------------


def test_url_is_the_stages_execute_api_url_on_aws(gateway, settings):
    settings.APIGW_WS = {**settings.APIGW_WS, "ENDPOINT_URL": None}
    assert websocket_url(gateway) == "wss://abc123defg.execute-api.eu-west-1.amazonaws.com/live"


def test_url_follows_endpoint_url_to_the_local_gateway(gateway, settings):
    settings.APIGW_WS = {**settings.APIGW_WS, "ENDPOINT_URL": "http://127.0.0.1:8001/"}
    assert websocket_url(gateway) == "ws://127.0.0.1:8001/live"
    settings.APIGW_WS = {**settings.APIGW_WS, "ENDPOINT_URL": "https://gw.example.com"}
    assert websocket_url(gateway) == "wss://gw.example.com/live"


def test_a_custom_domain_in_api_endpoint_wins(gateway, settings):
    gateway.api_endpoint = "wss://ws.example.com/chat"
    settings.APIGW_WS = {**settings.APIGW_WS, "ENDPOINT_URL": "http://127.0.0.1:8001"}
    assert websocket_url(gateway) == "wss://ws.example.com/chat"


def test_without_any_enabled_gateway_the_config_says_what_is_missing():
    ApiGateway.objects.create(api_name="off", api_id="off1234567", enabled=False)
    with pytest.raises(ConfigurationError, match="no enabled ApiGateway"):
        client_config(None, channel="lobby")


# -- client_config and the tags ---------------------------------------------------------


def test_config_has_url_channel_csrf_token_and_the_servers_limits(gateway):
    request = RequestFactory().get("/")
    config = client_config(request, channel="lobby", action="chat")
    assert config["url"].endswith("/live")
    assert config["channel"] == "lobby"
    assert config["action"] == "chat"
    assert config["handlerKey"] == "handler"
    assert config["csrfToken"]  # works with an HttpOnly CSRF cookie
    assert config["maxMessageBytes"] == 32768  # API Gateway's frame limit


def test_an_invalid_channel_is_a_configuration_error_not_a_page(gateway):
    with pytest.raises(ConfigurationError, match="invalid channel"):
        client_config(None, channel="apps.blog")


def test_client_tag_renders_the_options_as_json_and_the_script(gateway):
    html = render('{% apigw_ws_client channel="lobby" %}')
    assert config_of(html)["channel"] == "lobby"
    assert '<script src="/static/apigw_ws/apigw_ws.js"></script>' in html


def test_config_json_cannot_break_out_of_its_script_element(gateway):
    html = render(
        "{% apigw_ws_config url=url %}", url="wss://x.example.com/</script><script>alert(1)//"
    )
    assert "</script><script>" not in html
    assert config_of(html)["url"] == "wss://x.example.com/</script><script>alert(1)//"


def test_tag_keyword_arguments_override_the_mixins_options(gateway):
    base = client_config(None, channel="lobby")
    html = render(
        '{% apigw_ws_config channel="other" element_id="cfg" heartbeatMs=1000 %}',
        apigw_ws_config=base,
    )
    config = config_of(html, "cfg")
    assert config["channel"] == "other"
    assert config["heartbeatMs"] == 1000
    assert config["url"] == base["url"]


def test_tag_refuses_an_invalid_channel_override(gateway):
    with pytest.raises(ConfigurationError):
        render('{% apigw_ws_config channel="no spaces" %}', apigw_ws_config=client_config(None))


# -- the mixins -------------------------------------------------------------------------


class LobbyView(WebSocketMixin, TemplateView):
    template_name = "unused.html"
    websocket_channel = "lobby"


class AppView(AppChannelWebSocketMixin, TemplateView):
    template_name = "unused.html"


class OverriddenAppView(AppView):
    app_channel_override = "news"


def context_of(view_class):
    view = view_class()
    view.setup(RequestFactory().get("/"))
    return view.get_context_data()


def test_websocket_mixin_puts_options_and_channel_name_in_the_context(gateway):
    context = context_of(LobbyView)
    assert context["channel_name"] == "lobby"
    assert context["apigw_ws_config"]["channel"] == "lobby"
    assert context["apigw_ws_config"]["csrfToken"]


def test_app_channel_is_the_views_package_with_dots_made_valid(gateway):
    # This module's package is "tests.client": a dotted name, invalid as a channel.
    context = context_of(AppView)
    assert context["channel_name"] == "tests-client"
    assert channel_name_problem(context["channel_name"]) == ""


def test_app_channel_override_replaces_the_derived_name(gateway):
    assert context_of(OverriddenAppView)["channel_name"] == "news"


ASCII_ALNUM = re.compile(r"[A-Za-z0-9]")


@given(st.text(min_size=1, max_size=300))
@example("apps.blog")
@example("…")
def test_app_channel_name_keeps_the_letters_and_digits_or_refuses_a_name_without_any(package):
    kept = "".join(ASCII_ALNUM.findall(package))
    if not kept:
        # Nothing a channel name may hold: a refusal that quotes the name.
        with pytest.raises(ConfigurationError) as info:
            app_channel_name(package)
        assert repr(package) in str(info.value)
    else:
        name = app_channel_name(package)
        assert channel_name_problem(name) == ""
        assert kept.startswith("".join(ASCII_ALNUM.findall(name)))  # in order, cut at 128
        assert ASCII_ALNUM.match(name[0])
