"""What provisioning raises: a bad desired state, an AWS refusal, an apply cut short.

Every message names what to fix; AWS's error codes become sentences a person can act on.
"""

from __future__ import annotations

from typing import Any

from apigw_ws.errors import ApigwWsError


class ProvisioningError(ApigwWsError):
    """Provisioning could not do what was asked; the message says what to fix."""


class InvalidGatewaySpec(ProvisioningError):
    """The ``ApiGateway`` row or the settings describe a gateway AWS cannot have."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.reason = message


class AwsError(ProvisioningError):
    """AWS refused a call; ``code`` is AWS's error code, ``operation`` the API call."""

    def __init__(self, operation: str, code: str, message: str) -> None:
        super().__init__(message)
        self.operation = operation
        self.code = code


class ApplyIncomplete(ProvisioningError):
    """An apply stopped part-way; ``done`` lists the changes made before the failure.

    Nothing is recorded as applied: running ``apply`` again reads AWS and completes it.
    """

    def __init__(self, done: list[Any], failed: Any, error: ProvisioningError) -> None:
        super().__init__(
            f"{error} (stopped at: {failed}; {len(done)} change(s) made before it."
            " Run apply again to complete.)"
        )
        self.done = done
        self.failed = failed
        self.error = error


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
