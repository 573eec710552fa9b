"""Changes made in one process reach the messages another process serves, through Redis.

And why ``W034`` warns: a local-memory cache is per process, so there they do not.
"""

import multiprocessing

import pytest
from django.conf import settings
from django.db import connection

from .conftest import ALIAS, locmem_cache, perm, redis_cache
from .workers import change

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def shared_cache(settings):
    from tests.conftest import require_service

    require_service("redis", "127.0.0.1", 6379)
    settings.CACHES = {**settings.CACHES, ALIAS: redis_cache()}
    settings.APIGW_WS = {
        **settings.APIGW_WS,
        "SESSION_CACHE": ALIAS,
        "PLUGINS": [
            *settings.APIGW_WS["PLUGINS"],
            "apigw_ws.builtin_plugins.channels",
            "apigw_ws.builtin_plugins.login_binding",
        ],
    }
    yield
    from django.core.cache import caches

    caches[ALIAS].clear()


def in_another_process(kind, user, conn):
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    process = context.Process(
        target=change,
        args=(
            kind,
            connection.settings_dict["NAME"],
            settings.CACHES,
            settings.APIGW_WS,
            user.pk,
            conn.connection_id,
            results,
        ),
    )
    process.start()
    outcome = results.get(timeout=120)
    process.join(timeout=60)
    assert outcome == "done"


@pytest.fixture
def moderator(ws_client, client, django_user_model):
    user = django_user_model.objects.create_user("alice", password="pw")
    user.user_permissions.add(perm("view_user"))
    client.force_login(user)
    conn = ws_client.connect(channel="lobby")
    client.cookies.clear()
    assert conn.send({"handler": "moderate"}).status_code == 200  # served from the cache
    return user, conn


def test_a_permission_revoked_in_another_process_is_denied_here(shared_cache, moderator):
    user, conn = moderator
    in_another_process("revoke", user, conn)
    assert conn.send({"handler": "moderate"}).status_code == 403


def test_a_password_changed_in_another_process_refuses_the_next_message_here(
    shared_cache, moderator
):
    user, conn = moderator
    in_another_process("password", user, conn)
    response = conn.send({})
    assert (response.status_code, response.json()) == (400, {"error": "Unknown connection"})


def test_a_channel_changed_by_another_process_is_used_here(shared_cache, moderator):
    user, conn = moderator
    in_another_process("channel", user, conn)
    response = conn.send({"action": "presence", "handler": "status"}, route="presence")
    assert response.json() == {"channel": "room2"}


def test_a_local_memory_cache_keeps_serving_what_another_process_changed(
    settings, moderator_locmem
):
    # This is the stale answer that system check W034 warns about.
    user, conn = moderator_locmem
    in_another_process("revoke", user, conn)
    assert conn.send({"handler": "moderate"}).status_code == 200


@pytest.fixture
def moderator_locmem(settings, ws_client, client, django_user_model):
    settings.CACHES = {**settings.CACHES, ALIAS: locmem_cache()}
    settings.APIGW_WS = {**settings.APIGW_WS, "SESSION_CACHE": ALIAS}
    user = django_user_model.objects.create_user("alice", password="pw")
    user.user_permissions.add(perm("view_user"))
    client.force_login(user)
    conn = ws_client.connect()
    client.cookies.clear()
    assert conn.send({"handler": "moderate"}).status_code == 200
    return user, conn
