"""The subprotocol list: parsing hostile headers, choosing the echo, refusing nothing wrongly."""

import secrets

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from apigw_ws import subprotocols
from apigw_ws.contrib.django.models import WebSocketSession, WebSocketToken
from apigw_ws.subprotocols import MAX_ENTRY_LENGTH, MAX_OFFERED, TOKEN_PREFIX

from .conftest import session_key, stored_token, unspent


def test_entries_are_split_trimmed_and_kept_in_order():
    assert subprotocols.offered(" chat.v2 ,chat.v1,\tx") == ("chat.v2", "chat.v1", "x")


def test_empty_invalid_repeated_and_overlong_entries_are_dropped():
    header = f",, a b , é, ok, ok, {'x' * (MAX_ENTRY_LENGTH + 1)}, (paren), last"
    assert subprotocols.offered(header) == ("ok", "last")


def test_at_most_max_offered_entries_are_kept():
    header = ",".join(f"p{i}" for i in range(100))
    assert subprotocols.offered(header) == tuple(f"p{i}" for i in range(MAX_OFFERED))


def test_the_echo_is_the_first_entry_that_carries_no_token():
    entries = (f"{TOKEN_PREFIX}abc", "chat", "other")
    assert subprotocols.choose(entries) == "chat"
    assert subprotocols.tokens_in(entries) == ("abc",)
    assert subprotocols.choose((f"{TOKEN_PREFIX}abc",)) is None
    assert subprotocols.choose(()) is None


@pytest.mark.django_db
def test_without_any_token_plugin_the_offered_protocol_is_still_echoed(ws_client):
    conn = ws_client.connect(headers={"Sec-WebSocket-Protocol": "graphql-ws, chat"})
    assert conn.response.status_code == 200
    assert conn.response["Sec-WebSocket-Protocol"] == "graphql-ws"


_NAMES = st.from_regex(r"[A-Za-z][A-Za-z0-9._-]{0,20}", fullmatch=True)
_JUNK = st.text(
    st.characters(exclude_categories=("Cs",), exclude_characters="\r\n\x00"), max_size=30
)
_TOKENS = st.one_of(
    st.sampled_from(["VALID", "A" * 42, "B" * 43, ""]),
    st.from_regex(r"[A-Za-z0-9_-]{0,60}", fullmatch=True),
)


@st.composite
def protocol_lists(draw):
    """Yield hostile ``Sec-WebSocket-Protocol`` values; ``VALID`` stands for the real token."""
    entries = draw(
        st.lists(
            st.one_of(_NAMES, _JUNK, _TOKENS.map(lambda t: TOKEN_PREFIX + t)),
            max_size=MAX_OFFERED + 4,
        )
    )
    separator = draw(st.sampled_from([",", ", ", " ,\t", ",,"]))
    return separator.join(entries)


@pytest.mark.django_db
@pytest.mark.usefixtures("tokens_on")
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(header=protocol_lists())
@example(header=f"chat, {TOKEN_PREFIX}VALID")
@example(header=f"{TOKEN_PREFIX}VALID, , é, chat")
@example(header=f"{TOKEN_PREFIX}VALID")
def test_hostile_subprotocol_lists_get_a_4xx_or_a_valid_echo(ws_client, logged_in, user, header):
    token = stored_token(user, session_key(logged_in), token=secrets.token_urlsafe(32))
    header = header.replace("VALID", token)
    conn = ws_client.connect(headers={"Sec-WebSocket-Protocol": header.encode().decode("latin-1")})
    status = conn.response.status_code
    assert status < 500
    offered = subprotocols.offered(header.encode().decode("latin-1"))
    if status == 200:
        echoed = conn.response["Sec-WebSocket-Protocol"]
        assert echoed in offered
        assert not echoed.startswith(TOKEN_PREFIX)
        assert subprotocols.tokens_in(offered) == (token,)
        assert not unspent(token)
    else:
        assert set(conn.response.json()) == {"error"}
        assert unspent(token)
        assert not WebSocketSession.objects.filter(connection_id=conn.connection_id).exists()
    WebSocketToken.objects.all().delete()
