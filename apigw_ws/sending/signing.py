"""SigV4 for Management API requests, cheap enough to sign every post of a broadcast.

What botocore's ``SigV4Auth`` computes for service ``execute-api``, byte for byte (a test
compares the two), without its per-request objects:

- the signing key (four HMACs of the secret, date, region and service) is derived once
  per (credentials, date) and kept;
- the credential scope, the ``Host`` header and the signed-header list are worked out
  once per endpoint, the ``X-Amz-Date`` once per second, the payload hash once per
  message (a fan-out posts the same body to everyone);
- per request there remain one SHA-256 of the canonical request and one HMAC.

Credentials are resolved once per (endpoint, region, profile) through botocore's usual
chain. Refreshable ones (assumed roles, SSO, container and instance credentials,
``credential_process``) are honoured: every request takes botocore's frozen copy, which
refreshes them when they near expiry, and a new key is derived when they change.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlsplit

from .cache import made_once

SERVICE = "execute-api"
ALGORITHM = "AWS4-HMAC-SHA256"
DEFAULT_PORTS = {"http": 80, "https": 443}
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
_sha256 = hashlib.sha256


class ManagementSigner:
    """Signs Management API requests for one region with one set of credentials."""

    def __init__(self, region: str, credentials: Any) -> None:
        self.region = region
        self.credentials = credentials  # botocore Credentials or RefreshableCredentials
        self._scope_tail = f"/{region}/{SERVICE}/aws4_request"
        self._key: tuple[str, str, bytes] | None = None  # (secret, date, signing key)
        self._body: tuple[bytes, str] | None = None  # (body, its SHA-256)
        self._clock: tuple[int, str] | None = None  # (second, X-Amz-Date)
        self._hosts: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"ManagementSigner(region={self.region!r})"

    def sign(
        self, method: str, url: str, body: bytes = b"", *, now: datetime | None = None
    ) -> dict[str, str]:
        """Return the headers that sign ``method url`` with ``body``: send them as they are.

        ``url`` must already be percent-encoded as it goes on the wire (the signature
        covers its path); it has no query. ``now`` (UTC, naive) fixes the clock. The
        headers include the signed ``Host``.
        """
        scheme, netloc, path, _query, _fragment = urlsplit(url)
        host = self._hosts.get(netloc)
        if host is None:
            host = self._hosts[netloc] = _host(scheme, netloc)
        amz_date = self._amz_date(now)
        date = amz_date[:8]
        frozen = self.credentials.get_frozen_credentials()
        token = frozen.token
        if token:
            canonical_headers = (
                f"host:{host}\nx-amz-date:{amz_date}\nx-amz-security-token:{_trim(token)}\n"
            )
            signed_headers = "host;x-amz-date;x-amz-security-token"
        else:
            canonical_headers = f"host:{host}\nx-amz-date:{amz_date}\n"
            signed_headers = "host;x-amz-date"
        canonical_request = (
            f"{method}\n{_canonical_path(path)}\n\n{canonical_headers}\n"
            f"{signed_headers}\n{self._payload_hash(body)}"
        )
        string_to_sign = (
            f"{ALGORITHM}\n{amz_date}\n{date}{self._scope_tail}\n"
            f"{_sha256(canonical_request.encode()).hexdigest()}"
        )
        signature = hmac.new(
            self._signing_key(frozen.secret_key, date), string_to_sign.encode(), _sha256
        ).hexdigest()
        headers = {"Host": host, "X-Amz-Date": amz_date}
        if token:
            headers["X-Amz-Security-Token"] = token
        headers["Authorization"] = (
            f"{ALGORITHM} Credential={frozen.access_key}/{date}{self._scope_tail},"
            f" SignedHeaders={signed_headers}, Signature={signature}"
        )
        return headers

    def _amz_date(self, now: datetime | None) -> str:
        if now is not None:
            return now.strftime("%Y%m%dT%H%M%SZ")
        second = int(time.time())
        clock = self._clock
        if clock is None or clock[0] != second:
            clock = self._clock = (second, time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(second)))
        return clock[1]

    def _payload_hash(self, body: bytes) -> str:
        if not body:
            return EMPTY_SHA256
        known = self._body
        if known is not None and (known[0] is body or known[0] == body):
            return known[1]
        digest = _sha256(body).hexdigest()
        self._body = (body, digest)
        return digest

    def _signing_key(self, secret: str, date: str) -> bytes:
        known = self._key
        if known is not None and known[0] == secret and known[1] == date:
            return known[2]
        key = _hmac(f"AWS4{secret}".encode(), date)
        for part in (self.region, SERVICE, "aws4_request"):
            key = _hmac(key, part)
        self._key = (secret, date, key)
        return key


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), _sha256).digest()


def _trim(value: str) -> str:
    # SigV4's Trimall: no leading or trailing space, runs of spaces made one.
    return " ".join(value.split())


def _canonical_path(path: str) -> str:
    """Return SigV4's canonical URI of a wire path: dot segments and ``//`` removed, quoted."""
    if not path:
        return "/"
    if "//" in path or "/." in path:
        from botocore.utils import normalize_url_path

        path = normalize_url_path(path)
    return quote(path, safe="/~")


def _host(scheme: str, netloc: str) -> str:
    parts = urlsplit(f"{scheme}://{netloc}")
    host = parts.hostname or ""
    if ":" in host:  # IPv6
        host = f"[{host}]"
    if parts.port is not None and parts.port != DEFAULT_PORTS.get(scheme):
        host = f"{host}:{parts.port}"
    return host


def host_of(url: str) -> str:
    """Return the ``Host`` header of ``url`` as HTTP clients send it (no default port)."""
    scheme, netloc, *_rest = urlsplit(url)
    return _host(scheme, netloc)


@made_once(maxsize=64)
def management_signer(
    endpoint: str, region: str | None, profile: str | None = None
) -> ManagementSigner:
    """Return the signer of ``endpoint``: its region and credentials, resolved once.

    Raises botocore's ``NoRegionError``, ``NoCredentialsError`` or
    ``ProfileNotFound`` when they cannot be worked out, as making a client would.
    """
    import botocore.session
    from botocore.exceptions import NoCredentialsError, NoRegionError

    session = botocore.session.Session(profile=profile)
    region = region or session.get_config_variable("region")
    if not region:
        raise NoRegionError()
    credentials = session.get_credentials()
    if credentials is None:
        raise NoCredentialsError()
    return ManagementSigner(region, credentials)
