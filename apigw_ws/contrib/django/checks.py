"""System checks ``apigw_ws.E0xx`` (errors) and ``apigw_ws.W0xx`` (warnings).

| id | meaning |
| --- | --- |
| E001 | ``APIGW_WS`` is not a dict |
| E002 | a setting has the wrong type |
| E003, E004 | ``GATEWAY_SECRET`` is not a string/list, or too short |
| E005 | ``ALLOWED_ORIGINS`` has an entry that is not an origin |
| E010 | a plugin failed to load, implements an unknown hook, or registered a bad handler |
| W001 | no ``GATEWAY_SECRET`` (deploy checks only) |
| W002 | unknown ``APIGW_WS`` key |
| W003 | ``ALLOWED_ORIGINS`` contains ``*`` |
| W004 | ``MAX_MESSAGE_BYTES`` above API Gateway's limit |
"""

from __future__ import annotations

from typing import Any

from django.core.checks import Error, Tags, Warning, register

from . import conf
from .runtime import get_plugins

ID_PREFIX = "apigw_ws"


def _message(problem: conf.Problem) -> Any:
    kind = Warning if problem.warning else Error
    return kind(problem.msg, hint=problem.hint or None, id=f"{ID_PREFIX}.{problem.id}")


@register(Tags.compatibility)
def check_settings(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    """Validate ``APIGW_WS``."""
    return [_message(p) for p in conf.validate(conf.ws_settings.user_settings)]


@register()
def check_plugins(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    """Report every plugin that failed to load or registered something invalid."""
    if any(not p.warning for p in conf.validate(conf.ws_settings.user_settings)):
        return []  # the settings errors say it already; loading would repeat them
    return [
        Error(
            f"apigw_ws plugin {problem.plugin!r} {problem.message}",
            hint="Fix or uninstall the plugin, or add its name to APIGW_WS['BLOCKED_PLUGINS'].",
            obj=problem.plugin,
            id=f"{ID_PREFIX}.E010",
        )
        for problem in get_plugins().problems
    ]


@register(Tags.security, deploy=True)
def check_secret_deploy(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    """Warn when requests are not authenticated with a gateway secret."""
    if conf.ws_settings.secrets:
        return []
    return [
        Warning(
            "APIGW_WS['GATEWAY_SECRET'] is not set: anyone who can reach the ws/ URLs can"
            " forge API Gateway requests, and act as any connected user.",
            hint="Set a secret of 32+ characters and run 'manage.py ws_gateway apply' so every"
            " integration sends it.",
            id=f"{ID_PREFIX}.W001",
        )
    ]
