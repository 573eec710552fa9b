"""Strings no database stores never reach a handler or a row.

A lone surrogate (``"\\ud800"``) is not Unicode: no encoder and no database takes it. NUL
is refused by PostgreSQL in every text column. A message body carrying either is refused
at parse (400); a header the session row keeps (``User-Agent``) is stored without them. The
PostgreSQL run (``APIGW_WS_TEST_DB=postgres``) is the one where a NUL used to be a 500.
"""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import apigw_ws
from apigw_ws.contrib.django.models import WebSocketSession
from apigw_ws.errors import BadRequest
from apigw_ws.validation import parse_json_object, storable_text

pytestmark = pytest.mark.django_db

MAX = 131072
LONE = ["\\ud800", "\\udfff", "\\uDBFF", "x\\ud83dy", "\\ude00\\ud83d", "\\u0000", "a\\u0000b"]


@pytest.mark.parametrize("escape", LONE)
@pytest.mark.parametrize("where", ["value", "key", "nested"])
def test_a_body_with_an_escaped_lone_surrogate_or_nul_is_refused_at_parse(escape, where):
    text = {
        "value": f'{{"text": "{escape}"}}',
        "key": f'{{"{escape}": 1}}',
        "nested": f'{{"a": [{{"b": ["ok", "{escape}"]}}]}}',
    }[where]
    with pytest.raises(BadRequest, match="lone surrogate or NUL"):
        parse_json_object(text.encode(), max_bytes=MAX)


@pytest.mark.parametrize(
    "text", ['{"t": "\\ud83d\\ude00"}', '{"t": "\\\\u0000"}', '{"t": "\\\\ud800"}', '{"t": "é"}']
)
def test_surrogate_pairs_and_escaped_backslashes_are_fine(text):
    assert parse_json_object(text.encode(), max_bytes=MAX) == json.loads(text)


@settings(max_examples=200)
@given(st.recursive(st.text(), lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner)))
def test_any_parsed_body_holds_only_strings_a_database_can_store(value):
    body = json.dumps({"v": value}).encode()  # ensure_ascii: every odd character escaped
    try:
        parsed = parse_json_object(body, max_bytes=10**7)
    except BadRequest:
        return
    json.dumps(parsed, ensure_ascii=False).encode("utf-8")  # no lone surrogate survives
    assert "\x00" not in json.dumps(parsed, ensure_ascii=False)


class Saver:
    """A handler that stores what it is given, as a chat would."""

    @apigw_ws.hookimpl
    def apigw_ws_register_handlers(self, register):
        def save(ctx):
            WebSocketSession.objects.filter(pk=ctx.session.pk).update(user_agent=ctx.body["t"])
            return {"saved": True}

        register(save, route="$default", name="save")


def test_a_message_with_a_lone_surrogate_is_400_and_never_reaches_the_handler(
    ws_client, ws_plugins
):
    ws_plugins.add(Saver(), name="saver")
    conn = ws_client.connect()
    for escape in ("\\ud800", "\\u0000"):
        body = f'{{"handler": "save", "t": "{escape}"}}'.encode()
        response = ws_client.post("default", conn.connection_id, body=body)
        assert response.status_code == 400
        assert response.json() == {"error": "Bad request"}
    assert conn.send({"handler": "save", "t": "fine"}).status_code == 200


@pytest.mark.parametrize("agent", ["Mozilla\x00/5.0", "\x00", "a\x01b\x7fc", "x" * 300 + "\x00"])
def test_a_user_agent_with_nul_or_control_characters_is_stored_without_them(ws_client, agent):
    conn = ws_client.connect(headers={"User-Agent": agent})
    assert conn.response.status_code == 200
    stored = WebSocketSession.objects.get(connection_id=conn.connection_id).user_agent
    assert stored == storable_text(agent, 255)
    assert stored.isprintable()
    assert len(stored) <= 255


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(agent=st.text(st.characters(max_codepoint=0xFF), max_size=400))
def test_any_latin1_user_agent_connects_and_is_stored(ws_client, agent):
    conn = ws_client.connect(headers={"User-Agent": agent})
    assert conn.response.status_code == 200
    stored = WebSocketSession.objects.get(connection_id=conn.connection_id).user_agent
    assert stored == storable_text(agent, 255)


@pytest.mark.parametrize("cookie", ["sessionid=abcdefgh\x00ijkl", "sessionid=\x00" * 2])
def test_a_session_cookie_with_nul_is_an_anonymous_connect_not_a_500(ws_client, cookie):
    conn = ws_client.connect(headers={"Cookie": cookie})
    assert conn.response.status_code == 200
    assert WebSocketSession.objects.get(connection_id=conn.connection_id).user is None


def test_a_token_connect_with_a_nul_session_cookie_is_refused_as_an_invalid_token(
    ws_client, django_user_model, settings
):
    settings.APIGW_WS = {
        **settings.APIGW_WS,
        "PLUGINS": [*settings.APIGW_WS["PLUGINS"], "apigw_ws.builtin_plugins.tokens"],
    }
    token = ws_client.fetch_token(_logged_in(django_user_model.objects.create_user("nul")))
    conn = ws_client.connect(token=token, headers={"Cookie": "sessionid=abcdefgh\x00ijkl"})
    assert conn.response.status_code == 403
    assert not WebSocketSession.objects.exists()


def _logged_in(user):
    from django.test import Client

    browser = Client()
    browser.force_login(user)
    return browser
