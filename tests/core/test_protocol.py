"""The wire contract with API Gateway is written once, and every side speaks it.

Drives ``apigw_ws.protocol`` and its users without Django (but for the check of the Django
modules' limits): provisioning's request parameters, the local gateway's integration
headers and the test client's headers.
"""

import re
from pathlib import Path

import pytest

import apigw_ws
from apigw_ws import protocol
from apigw_ws.devgateway import GatewayConfig
from apigw_ws.devgateway import RouteSelector as DevGatewayRouteSelector
from apigw_ws.devgateway.integration import Client, Integration
from apigw_ws.protocol import RouteSelector
from apigw_ws.provisioning.desired import request_parameters
from apigw_ws.testing.client import gateway_headers

PACKAGE = Path(apigw_ws.__file__).parent
API_ID = "abc123"
CONNECTION_ID = "L0SM9cOFvHcCIhw="
SOURCE_IP = "203.0.113.7"
SECRET = "k" * 32
# URL route -> route key: the predefined routes and a custom one.
ROUTES = [("connect", "$connect"), ("disconnect", "$disconnect"), ("default", "$default")]
ROUTES.append(("chat", "chat"))


def provisioned_headers(secret):
    """Return the lower-case names of the headers provisioning maps into every integration."""
    prefix = protocol.HEADER_PARAMETER.format("")
    names = set()
    for parameter in request_parameters(secret):
        assert parameter.startswith(prefix), parameter
        names.add(parameter.removeprefix(prefix).lower())
    return names


def gateway_owned(headers):
    """Return ``{lower-case name: value}`` of the headers only API Gateway sets."""
    owned = {}
    for name, value in headers.items():
        lower = name.lower()
        if lower in protocol.GATEWAY_OWNED_HEADERS or lower.startswith(
            protocol.GATEWAY_OWNED_PREFIXES
        ):
            # A fresh trace id per request: compare that it is there, not its value.
            owned[lower] = None if lower == protocol.TRACE_ID_HEADER.lower() else value
    return owned


def local_gateway_headers(route_key, secret):
    integration = Integration(
        GatewayConfig(target="http://127.0.0.1:8000/ws/", api_id=API_ID, secret=secret)
    )
    client = Client(CONNECTION_ID, SOURCE_IP, forwarded_for=SOURCE_IP, port=443, scheme="https")
    return integration.headers(route_key, client)


def client_headers(route, secret):
    return gateway_headers(route, CONNECTION_ID, api_id=API_ID, secret=secret, source_ip=SOURCE_IP)


@pytest.mark.parametrize("secret", [None, SECRET])
@pytest.mark.parametrize(("route", "route_key"), ROUTES)
def test_the_test_client_and_the_local_gateway_send_what_provisioning_maps(
    route, route_key, secret
):
    mapped = provisioned_headers(secret)
    from_client = gateway_owned(client_headers(route, secret))
    from_gateway = gateway_owned(local_gateway_headers(route_key, secret))

    assert from_client == from_gateway
    # Every mapped header is sent, and every gateway header of ours is a mapped one.
    ours = {name for name in from_client if name.startswith("x-apigw-ws-")}
    assert ours | {protocol.CONNECTION_ID_HEADER.lower()} == mapped
    assert from_client[protocol.API_ID_HEADER.lower()] == API_ID
    assert from_client[protocol.ROUTE_KEY_HEADER.lower()] == route_key
    assert from_client[protocol.EVENT_TYPE_HEADER.lower()] == protocol.event_type_for(route_key)


@pytest.mark.parametrize(("route", "route_key"), ROUTES)
def test_the_user_agent_is_api_gateways_on_every_route_but_connect(route, route_key):
    from_gateway = local_gateway_headers(route_key, None)
    from_client = client_headers(route, None)
    if route_key == protocol.CONNECT_ROUTE:
        assert protocol.USER_AGENT_HEADER not in from_gateway  # the browser's is forwarded
        assert from_client[protocol.USER_AGENT_HEADER].startswith("Mozilla/")
    else:
        assert from_gateway[protocol.USER_AGENT_HEADER] == f"AmazonAPIGateway_{API_ID}"
        assert from_client[protocol.USER_AGENT_HEADER] == f"AmazonAPIGateway_{API_ID}"


def test_every_mapped_header_carries_a_context_variable_and_the_secret_a_static_value():
    parameters = request_parameters(SECRET)
    for header, variable in protocol.CONTEXT_HEADERS.items():
        assert parameters[protocol.HEADER_PARAMETER.format(header)] == variable
        assert variable.startswith("context.")
    assert parameters[protocol.HEADER_PARAMETER.format(protocol.SECRET_HEADER)] == f"'{SECRET}'"
    assert protocol.HEADER_PARAMETER.format(protocol.SECRET_HEADER) not in request_parameters(None)


# -- each literal once --------------------------------------------------------------------

HEADER_NAMES = sorted(
    {
        *protocol.CONTEXT_HEADERS,
        protocol.SECRET_HEADER,
        protocol.AWS_API_ID_HEADER,
        protocol.TRACE_ID_HEADER,
        protocol.FORWARDED_PORT_HEADER,
        protocol.FORWARDED_PROTO_HEADER,
    }
)
LIMITS = {
    "128 KB in bytes": r"\b131072\b|\b128\s*\*\s*1024\b",
    "32 KB in bytes": r"\b32768\b|\b32\s*\*\s*1024\b",
}


def _package_files_matching(pattern):
    return sorted(
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if "migrations" not in path.parts and pattern.search(path.read_text(encoding="utf-8"))
    )


@pytest.mark.parametrize("name", HEADER_NAMES)
def test_each_header_name_is_written_as_a_string_only_in_protocol(name):
    # A quoted literal of the whole name as code writes one (as sent, lower-case as Django's
    # request.headers holds it, or its META key); prose that mentions it is fine, and so is
    # another contract's "connectionId" (a JSON key) or boto3's ConnectionId parameter.
    spellings = (name, name.lower(), "HTTP_" + name.upper().replace("-", "_"))
    literal = re.compile(rf"""(['"])(?:{"|".join(map(re.escape, spellings))})\1""")
    assert _package_files_matching(literal) == ["protocol.py"]


@pytest.mark.parametrize("limit", sorted(LIMITS))
def test_each_aws_size_limit_is_written_only_in_protocol(limit):
    assert _package_files_matching(re.compile(LIMITS[limit])) == ["protocol.py"]


def test_the_limits_are_api_gateways():
    assert protocol.MAX_MESSAGE_BYTES == 131072
    assert protocol.MAX_FRAME_BYTES == 32768


def test_the_modules_that_had_a_copy_now_hold_protocols_values():
    from apigw_ws.contrib.django import checks, conf
    from apigw_ws.contrib.django import page_config as client
    from apigw_ws.devgateway import config
    from apigw_ws.provisioning import desired
    from apigw_ws.sending import encoding
    from apigw_ws.testing import outbox, strategies

    assert checks.AWS_MAX_MESSAGE_BYTES == protocol.MAX_MESSAGE_BYTES
    assert conf.DEFAULTS["MAX_MESSAGE_BYTES"] == protocol.MAX_MESSAGE_BYTES
    assert encoding.DEFAULT_MAX_BYTES == protocol.MAX_MESSAGE_BYTES
    assert outbox.MAX_PAYLOAD_BYTES == protocol.MAX_MESSAGE_BYTES
    assert strategies.AWS_MAX_MESSAGE_BYTES == protocol.MAX_MESSAGE_BYTES
    assert config.MAX_PAYLOAD_BYTES == protocol.MAX_MESSAGE_BYTES
    assert config.MAX_FRAME_BYTES == client.MAX_FRAME_BYTES == protocol.MAX_FRAME_BYTES
    assert desired.SECRET_HEADER == protocol.SECRET_HEADER
    assert desired.CONTEXT_HEADERS is protocol.CONTEXT_HEADERS


# -- route keys and event types -----------------------------------------------------------


@pytest.mark.parametrize(("route", "route_key"), ROUTES)
def test_url_routes_and_route_keys_map_both_ways(route, route_key):
    assert protocol.route_key_for(route) == route_key
    assert protocol.url_route_for(route_key) == route


@pytest.mark.parametrize(
    ("route_key", "event_type"),
    [("$connect", "CONNECT"), ("$disconnect", "DISCONNECT"), ("$default", "MESSAGE")],
)
def test_event_types_follow_the_route_key(route_key, event_type):
    assert protocol.event_type_for(route_key) == event_type
    assert protocol.event_type_for("chat") == "MESSAGE"


# -- route selection ----------------------------------------------------------------------


def select(body, routes=("$default", "chat"), expression="$request.body.action"):
    return RouteSelector.parse(expression, routes).select(body)


def test_the_local_gateway_selects_routes_with_the_protocols_selector():
    assert DevGatewayRouteSelector is RouteSelector
    assert protocol.DEFAULT_ROUTE_SELECTION_EXPRESSION == "$request.body.action"


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


def test_scalars_are_selected_as_api_gateway_prints_them():
    assert select(b'{"action": 5}', routes=("$default", "5")) == "5"
    assert select(b'{"action": true}', routes=("$default", "true")) == "true"


def test_templates_join_literal_text_and_body_keys():
    selector = RouteSelector.parse("${request.body.a}-${request.body.b}", ("x-y",))
    assert selector.select(b'{"a": "x", "b": "y"}') == "x-y"
    assert selector.select(b'{"a": "x"}') is None


def test_a_body_nested_too_deep_for_json_goes_to_default():
    assert select(b"[" * 32000) == "$default"


@pytest.mark.parametrize(
    "expression", ["$request.header.action", "action", "$request.body.", "${request.body.a}$x"]
)
def test_unsupported_expressions_are_refused_up_front(expression):
    with pytest.raises(ValueError, match="route selection expression"):
        RouteSelector.parse(expression, ("$default",))
