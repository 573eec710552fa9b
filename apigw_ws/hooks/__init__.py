"""The pluggy markers and hook specifications of ``apigw_ws``."""

from __future__ import annotations

import pluggy

PROJECT_NAME = "apigw_ws"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)

__all__ = ["PROJECT_NAME", "hookimpl", "hookspec"]
