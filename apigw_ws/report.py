"""Deprecated: import from ``apigw_ws`` or ``apigw_ws.sending`` (removed in the next release)."""

import warnings

from .sending.report import Failure, SendReport

warnings.warn(
    "apigw_ws.report is deprecated: import SendReport and Failure from apigw_ws"
    " or apigw_ws.sending",
    DeprecationWarning,
    stacklevel=2,
)

__all__ = ["Failure", "SendReport"]
