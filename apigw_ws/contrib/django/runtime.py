"""The project's loaded plugins: built once in ``AppConfig.ready()``, rebuilt on settings change."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from django.core.signals import setting_changed

from apigw_ws.plugins import Plugins, load_plugins

from .conf import SETTING_NAME, ws_settings

_lock = threading.Lock()
_plugins: Plugins | None = None
_extra: tuple[tuple[str, Any], ...] = ()


def get_plugins() -> Plugins:
    """Return the loaded plugins, loading them on first use (idempotent, thread-safe)."""
    global _plugins
    plugins = _plugins
    if plugins is None:
        with _lock:
            if _plugins is None:
                _plugins = load_plugins(
                    ws_settings.PLUGINS,
                    blocked=ws_settings.BLOCKED_PLUGINS,
                    load_entry_points=ws_settings.LOAD_ENTRY_POINTS,
                    objects=_extra,
                )
            plugins = _plugins
    return plugins


def reset(extra: Iterable[tuple[str, Any]] | None = None) -> None:
    """Forget the loaded plugins; the next request loads them again.

    ``extra`` replaces the ``(name, plugin object)`` pairs loaded after all others; the
    testing fixtures use it to add a plugin for one test.
    """
    global _plugins, _extra
    with _lock:
        _plugins = None
        if extra is not None:
            _extra = tuple(extra)


def _on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    if setting == SETTING_NAME:
        reset()


setting_changed.connect(_on_setting_changed)
