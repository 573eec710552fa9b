"""The ``ApiGateway`` admin actions: plan, apply and sync from AWS.

Each reports per gateway as an admin message. An AWS error becomes a readable error
message (with the secret masked), never a 500; an unexpected bug is logged with its
traceback and reported by class name.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest

from apigw_ws.provisioning import Change, ProvisioningError

from . import provisioning
from .models import ApiGateway

logger = logging.getLogger(__name__)

MAX_LISTED = 20


def describe(changes: tuple[Change, ...] | list[Change]) -> str:
    """Return changes as one line: 'create route chat; update integration $default (...)'."""
    parts = [
        f"{c}" + (f" ({', '.join(c.details)})" if c.details else "") for c in changes[:MAX_LISTED]
    ]
    if len(changes) > MAX_LISTED:
        parts.append(f"and {len(changes) - MAX_LISTED} more")
    return "; ".join(parts)


def _each(
    request: HttpRequest,
    queryset: Any,
    verb: str,
    work: Callable[[ApiGateway], tuple[int, str]],
) -> None:
    for gateway in queryset:
        logger.info(
            "admin %r: %s of gateway %r", request.user.get_username(), verb, gateway.api_name
        )
        try:
            level, text = work(gateway)
        except ProvisioningError as exc:
            messages.error(
                request, f"{gateway.api_name}: {verb} failed: {provisioning.redact(str(exc))}"
            )
            continue
        except Exception as exc:
            logger.exception("apigw_ws admin %s of %r failed", verb, gateway.api_name)
            messages.error(
                request,
                f"{gateway.api_name}: {verb} failed unexpectedly ({type(exc).__name__});"
                " see the log",
            )
            continue
        messages.add_message(request, level, f"{gateway.api_name}: {text}")


def _changes(changes: tuple[Change, ...], unchanged: str, level: int, done: str) -> tuple[int, str]:
    """Return the message of a plan or an apply: ``unchanged``, else ``done`` and the list."""
    if not changes:
        return messages.SUCCESS, unchanged
    return level, f"{done}: {describe(changes)}"


def _plan(gateway: ApiGateway) -> tuple[int, str]:
    changes = provisioning.plan_gateway(gateway)
    return _changes(
        changes, "no changes, AWS matches", messages.WARNING, f"{len(changes)} change(s) to apply"
    )


def _apply(gateway: ApiGateway) -> tuple[int, str]:
    changes = provisioning.apply_gateway(gateway).changes
    return _changes(
        changes,
        "no changes, AWS already matches",
        messages.SUCCESS,
        f"applied {len(changes)} change(s)",
    )


def _sync(gateway: ApiGateway) -> tuple[int, str]:
    changed = provisioning.sync_from_aws(gateway)
    if not changed:
        return messages.SUCCESS, "already in sync with AWS"
    return messages.SUCCESS, f"updated {', '.join(changed)} from AWS"


@admin.action(description="Plan: show what apply would change in AWS", permissions=["change"])
def plan_gateways(modeladmin: Any, request: HttpRequest, queryset: Any) -> None:
    _each(request, queryset, "plan", _plan)


@admin.action(
    description="Apply: create or update the API in AWS and deploy", permissions=["change"]
)
def apply_gateways(modeladmin: Any, request: HttpRequest, queryset: Any) -> None:
    _each(request, queryset, "apply", _apply)


@admin.action(
    description="Sync from AWS: read ids and endpoint into the row", permissions=["change"]
)
def sync_gateways(modeladmin: Any, request: HttpRequest, queryset: Any) -> None:
    _each(request, queryset, "sync", _sync)
