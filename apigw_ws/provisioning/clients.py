"""The one place boto3 clients get their credentials and region.

Credentials, in the incumbent's order: a named profile, else explicit keys, else boto3's
default chain (environment, config files, the instance or task role). The region comes
from the first of: the gateway row, ``APIGW_WS["REGION"]``, ``AWS_REGION``,
``AWS_DEFAULT_REGION``, the profile's configured region.
"""

from __future__ import annotations

import functools
import os
from typing import Any

import attrs

from ..errors import ProvisioningError


@attrs.frozen
class Credentials:
    """How to authenticate to AWS; every field empty means boto3's default chain."""

    profile: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = attrs.field(default=None, repr=False)
    session_token: str | None = attrs.field(default=None, repr=False)

    @property
    def source(self) -> str:
        """Return where the credentials come from, for status output."""
        if self.profile:
            return f"profile {self.profile!r}"
        if self.access_key_id:
            return "explicit keys"
        return "default chain"


def resolve_region(*candidates: str | None, profile: str | None = None) -> str:
    """Return the first non-empty region: ``candidates``, the environment, the profile's."""
    for region in (*candidates, os.environ.get("AWS_REGION"), os.environ.get("AWS_DEFAULT_REGION")):
        if region:
            return region
    # Keyed on what boto3 reads it from, so that another profile or file is read afresh.
    where = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_CONFIG_FILE")
    return _profile_region(profile, *(os.environ.get(name) for name in where))


@functools.lru_cache(maxsize=32)
def _profile_region(profile: str | None, *_environment: str | None) -> str:
    """Return the region configured for ``profile``: making a boto3 session takes ms."""
    import boto3
    import botocore.exceptions

    try:
        return boto3.session.Session(profile_name=profile).region_name or ""
    except botocore.exceptions.ProfileNotFound:
        return ""


def make_client(
    service: str,
    *,
    region: str,
    credentials: Credentials = Credentials(),
    endpoint_url: str | None = None,
    max_attempts: int = 5,
) -> Any:
    """Return a boto3 client of ``service`` with ``credentials`` in ``region``."""
    import boto3
    from botocore.config import Config

    if not region:
        raise ProvisioningError(
            "no AWS region: set the gateway's region, APIGW_WS['REGION'] or AWS_REGION"
        )
    if credentials.profile:
        session = boto3.session.Session(profile_name=credentials.profile, region_name=region)
    elif credentials.access_key_id:
        session = boto3.session.Session(
            aws_access_key_id=credentials.access_key_id,
            aws_secret_access_key=credentials.secret_access_key,
            aws_session_token=credentials.session_token,
            region_name=region,
        )
    else:
        session = boto3.session.Session(region_name=region)
    config = Config(
        connect_timeout=5,
        read_timeout=20,
        # "standard" retries throttling (TooManyRequestsException) with backoff.
        retries={"max_attempts": max_attempts, "mode": "standard"},
    )
    return session.client(service, endpoint_url=endpoint_url, config=config)
