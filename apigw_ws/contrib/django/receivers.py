"""Signal receivers that serve a plugin: always connected, inert while it is not loaded.

Plugins load after ``ready()`` and load again when the settings change (a test's
``ws_plugins`` fixture, ``override_settings``), so a receiver cannot be connected when
its plugin loads and disconnected when it goes: each is connected once, by ``ready()``,
and asks at every signal whether the plugin it serves is loaded.
"""

from __future__ import annotations

import sys

from .runtime import get_plugins


def plugin_loaded(name: str) -> bool:
    """Return whether the plugin module ``name`` is one of the loaded plugins."""
    manager = get_plugins().manager  # first: loading imports the plugin's module
    module = sys.modules.get(name)
    return module is not None and manager.is_registered(module)
