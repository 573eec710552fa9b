"""Our SigV4 signer gives, byte for byte, the headers botocore's ``SigV4Auth`` gives.

Same request, same credentials, same clock: every header (``Host``, ``X-Amz-Date``,
``X-Amz-Security-Token``, ``Authorization``) and their order must be equal, for the
three Management API calls, several endpoints and bodies, and connection ids that are
awkward to encode (leading ``-`` and ``=``, ``/``, non-ASCII).
"""

import datetime

import pytest
from botocore import auth as botocore_auth
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials, RefreshableCredentials

from apigw_ws.sending.aiohttp_transport import connection_url
from apigw_ws.sending.signing import ManagementSigner, host_of

CLOCKS = [
    datetime.datetime(2026, 12, 1, 10, 0, 0),
    datetime.datetime(2027, 2, 28, 23, 59, 59),
]
ENDPOINTS = [
    "https://abc123.execute-api.eu-west-1.amazonaws.com/production",
    "http://127.0.0.1:8765/local",
    "https://ws.example.com:8443/a/stage",
]
IDS = ["-abc=", "=x-Y_z", "Zm9vYmFyMTIzNDU2Nzg=", "a/b+c", "héllo-ünïcode", "日本語", "a.b~c", "."]
BODIES = [b"", b'{"hello":"world"}', "héllo".encode(), b"x" * 70000]
CREDENTIALS = [
    Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
    Credentials("ASIATEMP", "secret with spaces", "FwoGZXIvYXdzE//token+with/slash=="),
]


def botocores(method, url, body, credentials, region, now, monkeypatch):
    monkeypatch.setattr(botocore_auth, "get_current_datetime", lambda *a, **k: now)
    request = AWSRequest(method=method, url=url, data=body, headers={"Host": host_of(url)})
    SigV4Auth(credentials, "execute-api", region).add_auth(request)
    return list(request.headers.items())


@pytest.mark.parametrize("credentials", CREDENTIALS, ids=["key", "session-token"])
@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("now", CLOCKS, ids=str)
def test_headers_are_byte_for_byte_botocores(credentials, endpoint, now, monkeypatch):
    signer = ManagementSigner("eu-west-1", credentials)
    for cid in IDS:
        url = connection_url(endpoint, cid)
        for method, body in [("POST", b) for b in BODIES] + [("GET", b""), ("DELETE", b"")]:
            ours = list(signer.sign(method, url, body, now=now).items())
            theirs = botocores(method, url, body, credentials, "eu-west-1", now, monkeypatch)
            assert ours == theirs, (method, url, body[:20])


def test_the_signing_key_is_derived_once_per_day_and_again_for_new_credentials(monkeypatch):
    derived = []
    original = ManagementSigner._signing_key

    def counting(self, secret, date):
        before = self._key
        key = original(self, secret, date)
        if self._key is not before:
            derived.append((secret, date))
        return key

    monkeypatch.setattr(ManagementSigner, "_signing_key", counting)
    credentials = Credentials("AKID", "one")
    signer = ManagementSigner("us-east-1", credentials)
    url = connection_url(ENDPOINTS[0], "abc=")
    for _ in range(50):
        signer.sign("POST", url, b"x", now=CLOCKS[0])
    assert derived == [("one", "20261201")]
    signer.sign("POST", url, b"x", now=CLOCKS[1])
    credentials.secret_key = "two"
    signer.sign("POST", url, b"x", now=CLOCKS[1])
    assert derived == [("one", "20261201"), ("one", "20270228"), ("two", "20270228")]


def test_refreshed_credentials_sign_the_next_request(monkeypatch):
    issued = iter(range(1, 100))

    def refresh():
        n = next(issued)
        expiry = datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=1)
        return {
            "access_key": f"KEY{n}",
            "secret_key": f"secret{n}",
            "token": f"token{n}",
            "expiry_time": expiry.isoformat(),
        }

    # Expiring within botocore's mandatory refresh window: refreshed at every use.
    credentials = RefreshableCredentials.create_from_metadata(refresh(), refresh, "test")
    signer = ManagementSigner("us-east-1", credentials)
    url = connection_url(ENDPOINTS[0], "abc=")
    first = signer.sign("POST", url, b"x", now=CLOCKS[0])
    second = signer.sign("POST", url, b"x", now=CLOCKS[0])
    assert first["X-Amz-Security-Token"] != second["X-Amz-Security-Token"]
    n = second["X-Amz-Security-Token"].removeprefix("token")
    frozen = Credentials(f"KEY{n}", f"secret{n}", f"token{n}")
    assert list(second.items()) == botocores(
        "POST", url, b"x", frozen, "us-east-1", CLOCKS[0], monkeypatch
    )


def test_without_a_clock_the_date_is_now_in_utc():
    signer = ManagementSigner("us-east-1", CREDENTIALS[0])
    before = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    stamp = signer.sign("GET", connection_url(ENDPOINTS[0], "a="))["X-Amz-Date"]
    after = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    assert before <= stamp <= after
