"""Django permissions on handlers: ``permissions`` (any of) and ``all_permissions`` (all of).

When a handler sets both, both must hold. A handler with neither is public: this plugin
abstains and other plugins decide. Works with any user object that has Django's
``has_perm`` (``AnonymousUser`` has no permissions, so it is denied).
"""

from __future__ import annotations

from typing import Any

from apigw_ws.hooks import hookimpl


@hookimpl
def apigw_ws_check_permission(context: Any, handler: Any) -> bool | None:
    if not handler.permissions and not handler.all_permissions:
        return None
    user = context.user
    if user is None or not getattr(user, "is_active", False):
        return False
    if handler.permissions and not any(user.has_perm(p) for p in handler.permissions):
        return False
    return all(user.has_perm(p) for p in handler.all_permissions)
