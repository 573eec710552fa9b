"""moto's ``mock_aws`` around every test here, and the double for what moto lacks."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from apigw_ws.provisioning import build_spec

from .double import ApiGatewayV2Double

REGION = "us-east-1"
TARGET = "https://www.example.com/ws/"
SECRET = "n" * 40
CERT = "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-1111-2222-3333-444455556666"


@pytest.fixture(autouse=True)
def _aws(monkeypatch):
    # Never reach real AWS, whatever the developer's environment holds.
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield


@pytest.fixture
def aws():
    """An ``apigatewayv2`` client: moto, plus the double's missing operations and faults."""
    return ApiGatewayV2Double(boto3.client("apigatewayv2", region_name=REGION))


def spec(**overrides):
    values = {
        "name": "chat",
        "target_base_endpoint": TARGET,
        "route_keys": ["$default", "presence"],
        "stage_name": "production",
        "secret": SECRET,
    }
    return build_spec(**{**values, **overrides})
