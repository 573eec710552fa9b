"""Signing Management API requests with botocore's SigV4 signer, without a boto3 client.

The aiohttp transport builds each request itself (``POST``/``GET``/``DELETE`` on
``{endpoint}/@connections/{id}``) and signs it here exactly as a boto3 client would:
service ``execute-api``, the endpoint's region, the payload hashed. Credentials are
resolved once per (endpoint, region, profile) through botocore's usual chain; refreshable
ones (assumed roles, SSO, container and instance credentials, ``credential_process``)
are refreshed by botocore when they near expiry, since every request takes a frozen copy.
"""

from __future__ import annotations

import functools
from typing import Any
from urllib.parse import urlsplit

import attrs

from .sending import _made_once

SERVICE = "execute-api"
DEFAULT_PORTS = {"http": 80, "https": 443}


@attrs.frozen
class ManagementSigner:
    """Signs Management API requests for one endpoint."""

    region: str
    credentials: Any = attrs.field(repr=False)  # botocore Credentials or RefreshableCredentials

    def sign(self, method: str, url: str, body: bytes = b"") -> dict[str, str]:
        """Return the headers that sign ``method url`` with ``body``: send them as they are.

        ``url`` must already be percent-encoded as it goes on the wire (the signature
        covers its path). The headers include the signed ``Host``.
        """
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest

        # Host given, not left to botocore to work out from the URL twice per request.
        request = AWSRequest(method=method, url=url, data=body, headers={"Host": host_of(url)})
        # A frozen copy: a refresh between reading the key and the secret cannot mix them.
        SigV4Auth(self.credentials.get_frozen_credentials(), SERVICE, self.region).add_auth(request)
        return dict(request.headers.items())


@functools.lru_cache(maxsize=256)
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


@_made_once(maxsize=64)
def management_signer(endpoint: str, region: str | None, profile: str | None = None) -> Any:
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
