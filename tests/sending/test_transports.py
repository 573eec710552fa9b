"""The two transports: clients made once, requests signed as boto3 signs them, "auto".

The local gateway accepts SigV4 without checking it, so the signing tests send to a
recorder of their own (a real HTTP server on a free port) and check what reached it:
the signature is recomputed from the request as received, with botocore's signer.
"""

import json
import re
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from apigw_ws.sending import Endpoint, Recipient, Sender, aiohttp_transport, loop, management_client
from apigw_ws.sending.signing import management_signer

from .conftest import REGION, received, to

AUTHORIZATION_RE = re.compile(
    r"AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/"
    r"(?P<service>[^/]+)/aws4_request, SignedHeaders=(?P<signed>[a-z0-9;-]+),"
    r" Signature=(?P<signature>[0-9a-f]{64})"
)


class Recorder(ThreadingHTTPServer):
    """Answers every request 200 and keeps (method, raw path, headers, body)."""

    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests = []
        self.url = f"http://127.0.0.1:{self.server_address[1]}/prod"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _record(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {name.lower(): value for name, value in self.headers.items()}
        self.server.requests.append((self.command, self.path, headers, body))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    do_POST = do_GET = do_DELETE = _record

    def log_message(self, *_args):
        pass


@pytest.fixture
def recorder():
    server = Recorder()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def verify(request, secrets):
    """Recompute a received request's signature with botocore; return its credential."""
    method, path, headers, body = request
    auth = AUTHORIZATION_RE.fullmatch(headers["authorization"])
    assert auth, headers["authorization"]
    signed = auth["signed"].split(";")
    assert {"host", "x-amz-date"} <= set(signed)
    again = AWSRequest(
        method=method,
        url=f"http://{headers['host']}{path}",
        data=body,
        headers={name: headers[name] for name in signed},
    )
    again.context["timestamp"] = headers["x-amz-date"]
    token = headers.get("x-amz-security-token")
    signer = SigV4Auth(
        Credentials(auth["key"], secrets[auth["key"]], token), auth["service"], auth["region"]
    )
    string_to_sign = signer.string_to_sign(again, signer.canonical_request(again))
    assert signer.signature(string_to_sign, again) == auth["signature"]
    return auth


def test_a_parallel_first_send_makes_one_boto3_client(gateway):
    # lru_cache alone let every worker thread build its own client (~8 MB each).
    ids = gateway.open_sinks(64)
    report = Sender(concurrency=32, transport="boto3").send(to(gateway, ids), "x")
    assert report.sent == 64
    assert management_client.cache_info().misses == 1


def test_a_parallel_first_send_resolves_credentials_once(gateway):
    ids = gateway.open_sinks(64)
    report = Sender(concurrency=32, transport="aiohttp").send(to(gateway, ids), "x")
    assert report.sent == 64
    assert management_signer.cache_info().misses == 1
    assert management_client.cache_info().currsize == 0  # no boto3 client was made


def test_the_default_sends_single_messages_and_fan_outs_without_boto3(gateway, monkeypatch):
    monkeypatch.delenv("APIGW_WS_SEND_TRANSPORT")
    first, *others = gateway.open_sinks(5)
    assert Sender().transport == "aiohttp"
    assert Sender().send(to(gateway, [first]), "one").sent == 1
    assert Sender().send(to(gateway, others), "many").sent == 4
    assert management_client.cache_info().currsize == 0  # no boto3 client was made
    assert management_signer.cache_info().currsize == 1
    assert [received(gateway, cid) for cid in [first, *others]] == [1] * 5


def test_boto3_is_selectable_and_auto_now_means_the_default(monkeypatch):
    monkeypatch.setenv("APIGW_WS_SEND_TRANSPORT", "boto3")
    assert Sender().transport == "boto3"
    assert Sender(transport="auto").transport == "aiohttp"


def test_an_unknown_transport_is_refused(monkeypatch):
    with pytest.raises(ValueError, match="aiohttp, boto3"):
        Sender(transport="curl")
    monkeypatch.setenv("APIGW_WS_SEND_TRANSPORT", "carrier-pigeon")
    with pytest.raises(ValueError, match="carrier-pigeon"):
        Sender()


def test_posts_are_signed_as_botocore_signs_them_for_execute_api(recorder):
    endpoint = Endpoint(recorder.url, REGION)
    ids = ["abc=", "Zm9vYmFyMTIzNDU2Nzg="]
    report = Sender(transport="aiohttp").send([Recipient(cid, endpoint) for cid in ids], "héllo")
    assert report.sent == 2
    paths = set()
    for request in recorder.requests:
        method, path, headers, body = request
        auth = verify(request, {"local": "local"})
        assert (method, body) == ("POST", "héllo".encode())
        assert (auth["key"], auth["region"], auth["service"]) == ("local", REGION, "execute-api")
        assert auth["date"] == headers["x-amz-date"][:8]
        paths.add(path)
    assert paths == {"/prod/@connections/abc%3D", "/prod/@connections/Zm9vYmFyMTIzNDU2Nzg%3D"}


def test_the_verifier_rejects_a_request_altered_after_signing(recorder):
    Sender(transport="aiohttp").send([Recipient("abc=", Endpoint(recorder.url, REGION))], "x")
    method, path, headers, _body = recorder.requests[0]
    with pytest.raises(AssertionError):
        verify((method, path, headers, b"y"), {"local": "local"})
    with pytest.raises(AssertionError):
        verify((method, path.replace("abc", "abd"), headers, b"x"), {"local": "local"})


def test_each_call_has_the_method_and_path_boto3_uses_for_it(recorder):
    client = boto3.client("apigatewaymanagementapi", endpoint_url=recorder.url, region_name=REGION)
    client.post_to_connection(ConnectionId="a/b=", Data=b"x")
    client.get_connection(ConnectionId="a/b=")
    client.delete_connection(ConnectionId="a/b=")
    theirs = [(method, path) for method, path, _h, _b in recorder.requests]
    for request in recorder.requests:
        verify(request, {"local": "local"})
    recorder.requests.clear()
    sender = Sender(transport="aiohttp")
    recipient = [Recipient("a/b=", Endpoint(recorder.url, REGION))]
    sender.send(recipient, b"x")
    sender.check(recipient)
    sender.close(recipient)
    ours = [(method, path) for method, path, _h, _b in recorder.requests]
    assert (
        ours
        == theirs
        == [
            ("POST", "/prod/@connections/a%2Fb%3D"),
            ("GET", "/prod/@connections/a%2Fb%3D"),
            ("DELETE", "/prod/@connections/a%2Fb%3D"),
        ]
    )
    for request in recorder.requests:
        verify(request, {"local": "local"})


CREDENTIAL_PROCESS = """
import datetime, json, pathlib, sys
counter = pathlib.Path(sys.argv[1])
n = int(counter.read_text()) + 1 if counter.exists() else 1
counter.write_text(str(n))
expires = datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=1)
print(json.dumps({"Version": 1, "AccessKeyId": f"KEY{n}", "SecretAccessKey": f"secret{n}",
                  "SessionToken": f"token{n}", "Expiration": expires.isoformat()}))
"""


def test_refreshable_credentials_are_refreshed_and_never_mixed(recorder, tmp_path, monkeypatch):
    # credential_process credentials expiring in a minute: botocore refreshes them at
    # every use (inside its 10-minute mandatory window); a real process, run each time.
    script = tmp_path / "credentials.py"
    script.write_text(CREDENTIAL_PROCESS)
    config = tmp_path / "config"
    config.write_text(
        "[profile rotating]\n"
        f"credential_process = {sys.executable} {script} {tmp_path / 'counter'}\n"
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    endpoint = Endpoint(recorder.url, REGION, profile="rotating")
    sender = Sender(transport="aiohttp", concurrency=1)
    assert sender.send([Recipient("one=", endpoint)], "x").sent == 1
    assert sender.send([Recipient("two=", endpoint)], "x").sent == 1
    assert management_signer.cache_info().misses == 1  # resolved once, refreshed since
    secrets = {f"KEY{n}": f"secret{n}" for n in range(1, 10)}
    keys = []
    for request in recorder.requests:
        auth = verify(request, secrets)
        n = auth["key"].removeprefix("KEY")
        assert request[2]["x-amz-security-token"] == f"token{n}"
        keys.append(auth["key"])
    assert len(set(keys)) == 2


def test_missing_credentials_fail_the_endpoint_with_a_clear_error(gateway, monkeypatch):
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    ids = gateway.open_sinks(3)
    report = Sender(transport="aiohttp", concurrency=1).send(to(gateway, ids), "x")
    assert report.sent == 0
    assert len(report.failed) == 3
    assert "Unable to locate credentials" in report.failed[0].error
    assert [received(gateway, cid) for cid in ids] == [0] * 3


def test_the_pooled_session_outlives_a_send_and_restarts_after_shutdown(gateway):
    ids = gateway.open_sinks(4)
    sender = Sender(transport="aiohttp", concurrency=2)
    sender.send(to(gateway, ids[:2]), "x")
    first = loop.sending_loop()
    sender.send(to(gateway, ids[2:]), "x")
    assert loop.sending_loop() is first
    loop.shutdown()
    assert not first.thread.is_alive()
    assert sender.send(to(gateway, ids), "again").sent == 4
    assert loop.sending_loop() is not first


def test_error_answers_are_read_as_botocore_reads_them():
    read = aiohttp_transport.error_of
    assert read("GoneException:http://internal.amazon.com/", b"") == ("GoneException", "")
    throttled = json.dumps({"__type": "ns#LimitExceededException", "message": "m"}).encode()
    assert read("", throttled) == ("LimitExceededException", "m")
    assert read("", b"<html>bad gateway</html>") == ("", "<html>bad gateway</html>")
    assert read("", b"[1, 2]") == ("", "[1, 2]")
