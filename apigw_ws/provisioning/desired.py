"""The desired state of one gateway: what ``apply`` makes AWS match.

Built from plain values (the ``ApiGateway`` row, the registered route keys, the newest
gateway secret), validated here, so a bad name or URL is refused before any AWS call.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import re
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

import attrs

from apigw_ws import protocol
from apigw_ws.protocol import (
    CONTEXT_HEADERS,
    DEFAULT_ROUTE_SELECTION_EXPRESSION,
    HEADER_PARAMETER,
    SECRET_HEADER,
    url_route_for,
)

from .errors import InvalidGatewaySpec

CONNECT_KEY = protocol.CONNECT_ROUTE
DISCONNECT_KEY = protocol.DISCONNECT_ROUTE
DEFAULT_KEY = protocol.DEFAULT_ROUTE

INTEGRATION_TYPE = "HTTP_PROXY"
INTEGRATION_METHOD = "POST"
PAYLOAD_FORMAT_VERSION = "1.0"
TIMEOUT_MILLIS = protocol.INTEGRATION_TIMEOUT_SECONDS * 1000  # API Gateway's maximum
ROUTE_RESPONSE_KEY = protocol.DEFAULT_ROUTE

API_NAME_RE = re.compile(r"^[A-Za-z0-9 _-]{1,128}$")
STAGE_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
# A static mapping value sits between single quotes: the secret must not hold one.
SECRET_RE = re.compile(r"^[A-Za-z0-9._~+/=-]+$")
DOMAIN_LABEL_RE = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
CERTIFICATE_ARN_RE = re.compile(
    r"^arn:aws[a-z-]*:acm:(?P<region>[a-z0-9-]+):\d{12}:certificate/[A-Za-z0-9-]+$"
)
LOOPBACK_NAMES = {"localhost"}


def _frozen(value: Mapping[str, str]) -> Mapping[str, str]:
    return MappingProxyType(dict(value))


@attrs.frozen
class RouteSpec:
    """One route, its integration (target URL and request parameters) and route response."""

    route_key: str
    integration_uri: str
    request_parameters: Mapping[str, str] = attrs.field(converter=_frozen, repr=False)
    route_response: bool


@attrs.frozen
class DomainSpec:
    """A custom domain (regional, TLS 1.2) mapped to the gateway's stage."""

    domain_name: str
    certificate_arn: str


@attrs.frozen
class GatewaySpec:
    """Everything ``apply`` creates or updates for one gateway."""

    name: str
    description: str
    route_selection_expression: str
    stage_name: str
    stage_description: str
    tags: Mapping[str, str] = attrs.field(converter=_frozen)
    routes: tuple[RouteSpec, ...]
    api_id: str = ""  # the id already recorded for this gateway, if any
    domain: DomainSpec | None = None
    secret: str | None = attrs.field(default=None, repr=False)

    def route(self, route_key: str) -> RouteSpec | None:
        return next((r for r in self.routes if r.route_key == route_key), None)

    @property
    def fingerprint(self) -> str:
        """Return a short hash of the API's configuration, kept in the deployment."""
        canonical = {
            "name": self.name,
            "rse": self.route_selection_expression,
            "routes": [
                [r.route_key, r.integration_uri, sorted(r.request_parameters.items())]
                for r in self.routes
            ],
        }
        text = json.dumps(canonical, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def request_parameters(secret: str | None) -> dict[str, str]:
    """Return the integration request parameters: ``context.*`` headers and the secret."""
    params = {HEADER_PARAMETER.format(h): v for h, v in CONTEXT_HEADERS.items()}
    if secret:
        params[HEADER_PARAMETER.format(SECRET_HEADER)] = f"'{secret}'"
    return params


def is_secret_parameter(name: str) -> bool:
    return name.lower() == HEADER_PARAMETER.format(SECRET_HEADER).lower()


def check_api_name(name: str) -> str:
    if not isinstance(name, str) or not API_NAME_RE.match(name):
        raise InvalidGatewaySpec(
            "api_name",
            f"{name!r} is not a valid API name: use 1-128 letters, digits, spaces, '-' or '_'",
        )
    return name


def check_stage_name(name: str) -> str:
    if not isinstance(name, str) or not STAGE_NAME_RE.match(name):
        raise InvalidGatewaySpec(
            "stage_name",
            f"{name!r} is not a valid stage name: use 1-128 letters, digits, '-' or '_'",
        )
    return name


def _is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_target(url: str) -> str:
    """Return ``url`` ending in ``/``; refuse anything but https (http only on loopback)."""
    field = "target_base_endpoint"
    if not url:
        raise InvalidGatewaySpec(
            field,
            "is empty: set the https:// URL where ws/ is mounted, e.g. https://example.com/ws/",
        )
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 -- raises ValueError on a bad port
    except ValueError:
        raise InvalidGatewaySpec(field, f"{url!r} is not a URL") from None
    if not host or parts.query or parts.fragment or parts.username or parts.password:
        raise InvalidGatewaySpec(
            field, f"{url!r} must be scheme://host[:port]/path/ without credentials or query"
        )
    if parts.scheme == "https" or (parts.scheme == "http" and _is_loopback(host)):
        return url if url.endswith("/") else url + "/"
    raise InvalidGatewaySpec(
        field,
        f"{url!r} must use https:// (API Gateway sends the gateway secret in it);"
        " http:// is allowed only for localhost",
    )


def check_domain_name(name: str) -> str:
    labels = name.rstrip(".").lower().split(".") if isinstance(name, str) else []
    if len(labels) < 2 or len(name) > 253 or not all(DOMAIN_LABEL_RE.match(x) for x in labels):
        raise InvalidGatewaySpec("domain_name", f"{name!r} is not a valid domain name")
    return ".".join(labels)


def check_certificate(arn: str, *, domain_name: str, region: str) -> str:
    field = "certificate_arn"
    if not arn:
        raise InvalidGatewaySpec(
            field,
            f"is empty but domain_name is {domain_name!r}: request an ACM certificate for it"
            f" in {region or 'the gateway region'} and paste its ARN",
        )
    match = CERTIFICATE_ARN_RE.match(arn)
    if not match:
        raise InvalidGatewaySpec(field, f"{arn!r} is not an ACM certificate ARN")
    if region and match["region"] != region:
        raise InvalidGatewaySpec(
            field,
            f"the certificate is in {match['region']}, but a regional domain needs one in {region}",
        )
    return arn


def check_tags(tags: Any) -> dict[str, str]:
    if not isinstance(tags, Mapping):
        raise InvalidGatewaySpec("tags", 'must be a JSON object such as {"team": "web"}')
    for key, value in tags.items():
        if not (isinstance(key, str) and isinstance(value, str)):
            raise InvalidGatewaySpec("tags", f"{key!r}: keys and values must be strings")
        if not 1 <= len(key) <= 128 or len(value) > 256 or key.lower().startswith("aws:"):
            raise InvalidGatewaySpec(
                "tags", f"{key!r}: keys are 1-128 characters, not 'aws:...'; values <= 256"
            )
    return dict(tags)


def check_secret(secret: str | None) -> str | None:
    if secret and not SECRET_RE.match(secret):
        raise InvalidGatewaySpec(
            "GATEWAY_SECRET",
            "the newest secret has characters an API Gateway static value cannot hold;"
            " use letters, digits and . _ ~ + / = -",
        )
    return secret or None


def build_spec(
    *,
    name: str,
    target_base_endpoint: str,
    route_keys: Iterable[str],
    description: str = "",
    route_selection_expression: str = DEFAULT_ROUTE_SELECTION_EXPRESSION,
    stage_name: str = "production",
    stage_description: str = "",
    tags: Mapping[str, str] | None = None,
    secret: str | None = None,
    api_id: str = "",
    domain_name: str = "",
    certificate_arn: str = "",
    region: str = "",
) -> GatewaySpec:
    """Return the validated desired state; raise ``InvalidGatewaySpec`` naming the field."""
    check_api_name(name)
    check_stage_name(stage_name)
    target = check_target(target_base_endpoint)
    if not route_selection_expression or len(route_selection_expression) > 255:
        raise InvalidGatewaySpec("route_selection_expression", "must be 1-255 characters")
    if len(description) > 1024:
        raise InvalidGatewaySpec("api_description", "must be at most 1024 characters")
    secret = check_secret(secret)
    params = request_parameters(secret)
    keys = sorted({CONNECT_KEY, DISCONNECT_KEY, DEFAULT_KEY, *route_keys})
    routes = tuple(
        RouteSpec(
            route_key=key,
            integration_uri=target + url_route_for(key),
            request_parameters=params,
            route_response=key not in (CONNECT_KEY, DISCONNECT_KEY),
        )
        for key in keys
    )
    domain = None
    if domain_name:
        domain = DomainSpec(
            domain_name=check_domain_name(domain_name),
            certificate_arn=check_certificate(
                certificate_arn, domain_name=domain_name, region=region
            ),
        )
    return GatewaySpec(
        name=name,
        description=description,
        route_selection_expression=route_selection_expression,
        stage_name=stage_name,
        stage_description=stage_description,
        tags=check_tags({} if tags is None else tags),
        routes=routes,
        api_id=api_id,
        domain=domain,
        secret=secret,
    )
