"""Provisioning an API Gateway WebSocket API: desired state, live state, plan, apply.

Free of Django: the Django app builds a ``GatewaySpec`` from an ``ApiGateway`` row and the
registered handlers, and passes a boto3 ``apigatewayv2`` client made by ``make_client``.
"""

from ..errors import ApplyIncomplete, AwsError, InvalidGatewaySpec, ProvisioningError
from .apply import ApplyResult, apply, apply_domain, make_plan, read_state
from .clients import Credentials, make_client, resolve_region
from .desired import DomainSpec, GatewaySpec, RouteSpec, build_spec, request_parameters
from .diff import Change, plan
from .dns import dns_instructions
from .iam import policy
from .live import LiveApi, LiveDomain, read_api, read_domain

__all__ = [
    "ApplyIncomplete",
    "ApplyResult",
    "AwsError",
    "Change",
    "Credentials",
    "DomainSpec",
    "GatewaySpec",
    "InvalidGatewaySpec",
    "LiveApi",
    "LiveDomain",
    "ProvisioningError",
    "RouteSpec",
    "apply",
    "apply_domain",
    "build_spec",
    "dns_instructions",
    "make_client",
    "make_plan",
    "plan",
    "policy",
    "read_api",
    "read_domain",
    "read_state",
    "request_parameters",
    "resolve_region",
]
