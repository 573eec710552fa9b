"""Users with given permissions, for fixtures and strategies."""

from __future__ import annotations

import difflib
import itertools
from typing import Any

_numbers = itertools.count(1)


def make_user(
    *permissions: str, username: str | None = None, is_active: bool = True, **fields: Any
) -> Any:
    """Save and return a user of ``AUTH_USER_MODEL`` holding ``permissions``.

    Permissions are ``"app_label.codename"`` strings, as ``user.has_perm`` takes them; one
    that does not exist fails the test with the list of similar ones.
    """
    from django.contrib.auth import get_user_model

    from .client import usage_error

    model = get_user_model()
    name = username or f"ws-user-{next(_numbers)}"
    user = model.objects.create_user(**{model.USERNAME_FIELD: name}, is_active=is_active, **fields)
    if permissions:
        user.user_permissions.add(*(_permission(p, usage_error) for p in permissions))
        user = model.objects.get(pk=user.pk)  # has_perm caches: start from a fresh row
    return user


def _permission(dotted: str, fail: Any) -> Any:
    from django.contrib.auth.models import Permission

    app_label, _, codename = dotted.partition(".")
    found = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
    if found is None:
        known = Permission.objects.values_list("content_type__app_label", "codename")
        hints = ", ".join(similar_names(dotted, [f"{a}.{c}" for a, c in known])) or "none"
        fail(
            f"no permission {dotted!r}: write it as 'app_label.codename' (similar: {hints});"
            " its app must be in INSTALLED_APPS and migrated."
        )
    return found


def similar_names(wanted: str, known: list[str], limit: int = 5) -> list[str]:
    """Return up to ``limit`` of ``known`` that look like ``wanted``, closest first.

    A typo (``auth.view_usr``) is close to the whole name; a name given without its app
    label (``view_user``) or with the wrong one matches on the codename.
    """
    codename = wanted.rpartition(".")[2]
    close = difflib.get_close_matches(wanted, known, n=limit, cutoff=0.75)
    codenames = sorted({name.rpartition(".")[2] for name in known})
    for near in difflib.get_close_matches(codename, codenames, n=limit, cutoff=0.75):
        close += [name for name in known if name.rpartition(".")[2] == near]
    return list(dict.fromkeys(close))[:limit]
