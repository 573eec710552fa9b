"""Code run in separate processes (spawned, so each has its own Django and connections)."""

import os


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    import django

    django.setup()


def hit_many(store_kind, options, key, hits, limit, window, barrier, results):
    """Hit ``key`` ``hits`` times once every process is ready; report how many were allowed.

    ``options``: for "cache" the CACHES setting to use; for "database" the NAME of the
    test database the parent process created.
    """
    _setup()
    from django.db import connections
    from django.test.utils import override_settings

    from apigw_ws.contrib.django.ratelimit_stores import CacheStore, DatabaseStore

    if store_kind == "cache":
        override_settings(CACHES=options).enable()
        store = CacheStore()
    else:
        connections["default"].settings_dict["NAME"] = options
        store = DatabaseStore()
    barrier.wait(timeout=60)
    allowed = sum(store.hit(key, limit=limit, window=window) == 0 for _ in range(hits))
    connections.close_all()
    results.put(allowed)
