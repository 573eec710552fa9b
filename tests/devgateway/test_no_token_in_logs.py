"""No log line of a token connect through the local gateway contains the token.

Every logger is captured at DEBUG (aiohttp's included) while a client connects with the
token both as a subprotocol entry and as ``?ws_token=``, and while the backend answers
without a subprotocol (the case in which aiohttp logs the client's whole list).
"""

import logging

import pytest

from apigw_ws.log_redaction import TokenRedactingFilter, redact_tokens

from .test_without_django import with_gateway

TOKEN = "T0kenT0kenT0kenT0kenT0kenT0kenT0kenT0ken123"


class Everything(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines = []

    def emit(self, record):
        self.lines.append(f"{record.name}: {record.getMessage()}")


@pytest.fixture
def all_logs():
    root = logging.getLogger()
    handler, level = Everything(), root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield handler.lines
    root.removeHandler(handler)
    root.setLevel(level)


@pytest.mark.parametrize("answer", [{}, {"Sec-WebSocket-Protocol": "apigw_ws"}])
def test_a_token_connect_logs_no_token_anywhere(all_logs, answer):
    async def scenario(backend, gateway, http):
        backend.connect_headers = answer
        url = f"{gateway.ws_url}?channel=lobby&ws_token={TOKEN}"
        protocols = ("apigw_ws", f"apigw_ws.token.{TOKEN}")
        async with http.ws_connect(url, protocols=protocols) as ws:
            await ws.send_str('{"action": "x"}')
            await backend.wait_for("default")
        await backend.wait_for("disconnect")

    with_gateway(scenario)
    assert [line for line in all_logs if TOKEN in line] == []


@pytest.mark.parametrize(
    "text",
    [
        f"Client protocols ['apigw_ws', 'apigw_ws.token.{TOKEN}'] don't overlap",
        f'"GET /local?channel=a&ws_token={TOKEN} HTTP/1.1" 101',
        f"ws_token={TOKEN}&x=1",
        f"apigw_ws.token.{TOKEN},apigw_ws",
    ],
)
def test_redaction_masks_every_form_a_token_takes(text):
    assert TOKEN not in redact_tokens(text)
    assert "***" in redact_tokens(text)


def test_the_filter_rewrites_the_record_and_keeps_it():
    record = logging.LogRecord("x", logging.WARNING, "f", 1, "offered %r", ([TOKEN],), None)
    record.msg = "offered %r"
    record.args = ([f"apigw_ws.token.{TOKEN}"],)
    assert TokenRedactingFilter().filter(record) is True
    assert TOKEN not in record.getMessage()


def test_aiohttp_still_logs_the_warning_so_the_test_can_fail(all_logs):
    async def scenario(backend, gateway, http):
        async with http.ws_connect(gateway.ws_url, protocols=("nothing-matches",)):
            pass
        await backend.wait_for("disconnect")

    with_gateway(scenario)
    assert any("nothing-matches" in line for line in all_logs)
