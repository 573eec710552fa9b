"""Single-use connect tokens: ``ws/token`` issues them, ``$connect`` spends them.

Switch it on by listing ``"apigw_ws.builtin_plugins.tokens"`` in ``APIGW_WS["PLUGINS"]``.
A token is bound to the user and to the Django session of the page that asked for it,
expires after ``TOKENS["EXPIRY_SECONDS"]``, and is accepted as ``?ws_token=`` or as an
``apigw_ws.token.<token>`` subprotocol entry. Another plugin replaces it by returning its
own backend from ``apigw_ws_token_backend`` (the first result wins).
"""

from __future__ import annotations

from typing import Any

from apigw_ws.hooks import hookimpl


@hookimpl
def apigw_ws_token_backend() -> Any:
    # Imported here: the backend needs the Django app, this module must not.
    from apigw_ws.contrib.django.token_backend import DatabaseTokenBackend

    return DatabaseTokenBackend()
