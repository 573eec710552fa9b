"""AWS's errors as sentences a person can act on (``explain``).

The exceptions provisioning raises (a bad desired state, an AWS refusal, an apply cut
short) live in ``apigw_ws.errors``; they are importable from here too.
"""

from __future__ import annotations

from apigw_ws.errors import ApplyIncomplete, AwsError, InvalidGatewaySpec, ProvisioningError

__all__ = ["ApplyIncomplete", "AwsError", "InvalidGatewaySpec", "ProvisioningError", "explain"]


_THROTTLED = {"TooManyRequestsException", "ThrottlingException", "LimitExceededException"}
_DENIED = {
    "AccessDeniedException",
    "UnauthorizedException",
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "ExpiredTokenException",
    "InvalidClientTokenId",
}


def explain(exc: Exception, operation: str) -> ProvisioningError:
    """Return ``exc`` (a botocore error) as a ``ProvisioningError`` saying what to do."""
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        EndpointConnectionError,
        NoCredentialsError,
        NoRegionError,
        ProfileNotFound,
    )

    if isinstance(exc, ProvisioningError):
        return exc
    if isinstance(exc, NoCredentialsError):
        return AwsError(
            operation,
            "NoCredentials",
            "no AWS credentials found: set APIGW_WS['AWS_PROFILE'], the AWS_* environment"
            " variables, or give the server an IAM role",
        )
    if isinstance(exc, NoRegionError):
        return AwsError(operation, "NoRegion", "no AWS region: set the gateway's region")
    if isinstance(exc, ProfileNotFound):
        return AwsError(operation, "ProfileNotFound", f"{exc}: check APIGW_WS['AWS_PROFILE']")
    if isinstance(exc, EndpointConnectionError):
        return AwsError(operation, "EndpointConnection", f"cannot reach AWS: {exc}")
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", "Unknown"))
        text = str(error.get("Message", "")).strip() or code
        return AwsError(operation, code, _sentence(operation, code, text))
    if isinstance(exc, BotoCoreError):
        return AwsError(operation, type(exc).__name__, f"{operation} failed: {exc}")
    raise exc


def _sentence(operation: str, code: str, text: str) -> str:
    if code in _THROTTLED:
        extra = (
            " API Gateway allows one CreateDeployment per 5 seconds per account."
            if operation == "CreateDeployment"
            else ""
        )
        return (
            f"AWS is throttling {operation} ({code}).{extra} Wait a few seconds and run"
            " apply again: it continues where this one stopped."
        )
    if code in _DENIED:
        return (
            f"AWS denied {operation} ({code}: {text}). Give these credentials the"
            " permissions printed by 'manage.py ws_gateway iam-policy --provisioning'."
        )
    if code == "ConflictException":
        return (
            f"{operation} conflicts with what exists in AWS ({text}). Run"
            " 'manage.py ws_gateway plan' to see the live state."
        )
    if code == "NotFoundException":
        return (
            f"{operation}: AWS has no such resource ({text}). It may have been deleted"
            " in AWS; 'manage.py ws_gateway plan' shows what apply will recreate."
        )
    if code == "BadRequestException":
        return f"AWS rejected {operation}: {text}"
    return f"{operation} failed ({code}): {text}"
