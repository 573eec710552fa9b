"""A Redis ``SESSION_CACHE`` is fronted by a copy in each process, kept exact by Redis.

Everything here runs against the real Redis on 127.0.0.1:6379; "another client" is a
plain redis-py connection writing the same keys, as another process would.
"""

import pytest
import redis
from django.core.cache import caches
from hypothesis import given
from hypothesis import strategies as st

from apigw_ws.contrib.django import near_cache
from apigw_ws.contrib.django import session_cache as sc

from .conftest import ALIAS, OUR_REDIS, REDIS_URL, redis_cache

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["django", "ours"])
def redis_session_cache(settings, request):
    from tests.conftest import require_service

    require_service("redis", "127.0.0.1", 6379)
    backend = redis_cache() if request.param == "django" else redis_cache(OUR_REDIS)
    settings.CACHES = {**settings.CACHES, ALIAS: backend}
    settings.APIGW_WS = {**settings.APIGW_WS, "SESSION_CACHE": ALIAS}
    yield
    caches[ALIAS].clear()


@pytest.fixture
def store(redis_session_cache):
    store = sc._store()
    assert isinstance(store, near_cache.NearCache)
    return store


@pytest.fixture
def other_client():
    """Another Redis client (another process, as far as this one can tell)."""
    client = redis.Redis.from_url(REDIS_URL)
    yield client
    client.close()


class CountingGets:
    """Counts the reads that reach Redis (wraps the backend's ``get``; Redis still answers)."""

    def __init__(self, backend, monkeypatch):
        self.calls = 0
        real = backend.get

        def get(key, *args, **kwargs):
            self.calls += 1
            return real(key, *args, **kwargs)

        monkeypatch.setattr(backend, "get", get)


def K(name):
    """A key under the session cache's prefix (the only keys Redis tells us about)."""
    return sc.layout().key(f"test-{name}")


def redis_key(key):
    return caches[ALIAS].make_key(key)


def test_a_warm_message_costs_no_round_trip_to_redis(store, ws_client, monkeypatch):
    conn = ws_client.connect()
    conn.send({})  # reads Redis once (or fills), then keeps the entry here
    conn.send({})
    reads = CountingGets(store.backend, monkeypatch)
    for _ in range(3):
        assert conn.send({"text": "hi"}).status_code == 200
    assert reads.calls == 0


def test_a_key_another_client_writes_is_read_from_redis_again(store, other_client, monkeypatch):
    # (Integers are stored as plain numbers by Django's Redis serializer.)
    store.set(K("k"), 1)
    assert store.get(K("k")) == 1
    reads = CountingGets(store.backend, monkeypatch)
    assert store.get(K("k")) == 1  # served here
    assert reads.calls == 0
    other_client.set(redis_key(K("k")), 2)
    assert store.get(K("k")) == 2
    assert store.get(K("k")) == 2
    assert reads.calls == 1


def test_a_tombstone_written_by_another_process_refuses_the_next_message(
    store, ws_client, other_client
):
    conn = ws_client.connect()
    conn.send({})
    assert conn.send({}).status_code == 200  # served from this process's copy
    # What forget() does in another process: the tombstone (0), written to Redis.
    other_client.set(redis_key(sc.layout().key(conn.connection_id)), sc.TOMBSTONE)
    from apigw_ws.contrib.django.models import WebSocketSession

    # (The change itself, behind forget()'s back, so only the tombstone can tell.)
    WebSocketSession.objects.filter(connection_id=conn.connection_id).update(connected=False)
    response = conn.send({})
    assert (response.status_code, response.json()) == (400, {"error": "Unknown connection"})


def test_a_flush_drops_every_copy(store, other_client, monkeypatch):
    store.set(K("a"), 1)
    store.get(K("a"))
    other_client.flushdb()
    reads = CountingGets(store.backend, monkeypatch)
    assert store.get(K("a")) is None
    assert reads.calls == 1


def test_a_read_racing_with_a_change_is_not_kept(store, other_client, monkeypatch):
    store.set(K("r"), "before")
    real = store.backend.get
    key = redis_key(K("r"))

    def get_then_change(k, *args, **kwargs):
        value = real(k, *args, **kwargs)
        other_client.delete(key)  # changed after Redis answered, before the copy is kept
        return value

    monkeypatch.setattr(store.backend, "get", get_then_change)
    assert store.get(K("r")) == "before"
    monkeypatch.setattr(store.backend, "get", real)
    assert store.get(K("r")) is None  # not served from a stale copy


def test_a_broken_subscription_drops_the_copies_and_comes_back(store, other_client, monkeypatch):
    store.set(K("b"), "v")
    store.get(K("b"))
    sock = store.invalidations._sock
    other_client.execute_command("CLIENT", "KILL", "TYPE", "pubsub")
    store.invalidations._retry_at = float("inf")  # no resubscribing for the moment
    # A write nobody is told about: this process must not serve its copy after the break.
    caches[ALIAS].set(K("b"), "w")
    reads = CountingGets(store.backend, monkeypatch)
    assert store.get(K("b")) == "w"
    assert store.get(K("b")) == "w"
    assert reads.calls == 2  # down: every read goes to Redis, nothing is kept
    store.invalidations._retry_at = 0
    assert store.get(K("b")) == "w"
    assert store.invalidations.live
    assert store.invalidations._sock is not sock
    assert store.get(K("b")) == "w"
    assert reads.calls == 3  # subscribed again: kept again


def test_a_forked_process_drops_the_copies_it_inherited(store, monkeypatch):
    store.set(K("f"), "v")
    store.get(K("f"))
    assert store._entries
    inherited = store.invalidations._sock
    monkeypatch.setattr(near_cache.os, "getpid", lambda: -1)  # as in a child after fork()
    reads = CountingGets(store.backend, monkeypatch)
    assert store.get(K("f")) == "v"
    assert reads.calls == 1  # from Redis: the copy was made before this subscription
    assert store.invalidations.live  # subscribed again at once, on a socket of its own
    assert store.invalidations._sock is not inherited
    assert store.get(K("f")) == "v"
    assert reads.calls == 1  # and kept again under the new subscription
    inherited.close()


def test_the_copies_are_bounded(store):
    store.max_entries = 3
    for i in range(5):
        store.set(K(f"n{i}"), i)
        store.get(K(f"n{i}"))
    assert len(store._entries) == 3


def test_instances_built_from_one_kept_entry_do_not_share_mutable_values():
    values = ("abc=", {"a": 1})  # e.g. a custom user model's JSONField
    model = sc.layout().session_model
    one = sc._instance(model, ("connection_id", "extra"), values)
    two = sc._instance(model, ("connection_id", "extra"), values)
    one.extra["a"] = 2
    assert two.extra == {"a": 1}
    assert values[1] == {"a": 1}
    assert one.connection_id is values[0]  # immutable values are shared, not copied


@pytest.mark.parametrize(
    "change",
    [
        {"SESSION_CACHE_LOCAL_ENTRIES": 0},
        {"LOCATION": [REDIS_URL, REDIS_URL]},
        {"KEY_FUNCTION": "tests.session_cache.test_near_cache.reversed_key"},
    ],
    ids=["turned-off", "several-servers", "own-key-function"],
)
def test_no_local_copy_where_it_could_not_be_kept_exact(settings, change):
    backend = redis_cache()
    apigw = {**settings.APIGW_WS, "SESSION_CACHE": ALIAS}
    if "SESSION_CACHE_LOCAL_ENTRIES" in change:
        apigw.update(change)
    else:
        backend.update(change)
    settings.CACHES = {**settings.CACHES, ALIAS: backend}
    settings.APIGW_WS = apigw
    assert sc._store() is caches[ALIAS]


def reversed_key(key, key_prefix, version):
    return f"{key[::-1]}:{version}:{key_prefix}"


def test_an_unreachable_redis_means_round_trips_not_errors(settings, caplog):
    settings.CACHES = {
        **settings.CACHES,
        ALIAS: {"BACKEND": OUR_REDIS, "LOCATION": "redis://127.0.0.1:1/0"},
    }
    settings.APIGW_WS = {**settings.APIGW_WS, "SESSION_CACHE": ALIAS}
    store = sc._store()
    assert store.invalidations.ensure() is False
    assert "no local session cache" in caplog.text


# --- the RESP reader ----------------------------------------------------------------------


resp_values = st.recursive(
    st.none() | st.binary(max_size=20),
    lambda children: st.lists(children, max_size=4),
    max_leaves=12,
)


def encode(value):
    if value is None:
        return b"$-1\r\n"
    if isinstance(value, bytes):
        return b"$%d\r\n%s\r\n" % (len(value), value)
    return b"*%d\r\n" % len(value) + b"".join(map(encode, value))


@given(value=resp_values, cut=st.integers(min_value=0))
def test_the_reader_parses_any_value_and_waits_for_the_rest_of_a_cut_one(value, cut):
    data = encode(value)
    cut %= len(data)
    with pytest.raises(near_cache._Incomplete):
        near_cache._parse(data[:cut], 0)
    assert near_cache._parse(data + b"+OK\r\n", 0) == (value, len(data))


def test_the_reader_reports_an_error_reply():
    with pytest.raises(near_cache.ProtocolError, match="ERR unknown"):
        near_cache._parse(b"-ERR unknown command\r\n", 0)
