"""The built-in stores count atomically, reset per window, stay bounded and are pruned."""

import multiprocessing
import threading

import pytest
from django.db import connection, connections

from apigw_ws.contrib.django.models import RateLimitCounter
from apigw_ws.contrib.django.ratelimit_stores import (
    CacheStore,
    DatabaseStore,
    prune_counters,
    storage_key,
)
from tests.conftest import require_service


class Clock:
    def __init__(self, now=1_000_000.0):
        self.now = now

    def __call__(self):
        return self.now


def _stores(clock):
    return {"database": DatabaseStore(clock=clock), "cache": CacheStore(clock=clock)}


@pytest.fixture(params=["database", "cache"])
def store_and_clock(request, db, settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    clock = Clock(1_000_040.0)  # 20 s into a 60 s cache slot
    return _stores(clock)[request.param], clock


def test_hits_up_to_the_limit_pass_and_the_next_waits_for_the_window(store_and_clock):
    store, clock = store_and_clock
    assert [store.hit("k", limit=3, window=60) for _ in range(3)] == [0, 0, 0]
    wait = store.hit("k", limit=3, window=60)
    assert wait == 40 if isinstance(store, CacheStore) else wait == 60
    clock.now += 5
    assert store.hit("k", limit=3, window=60) == wait - 5


def test_a_new_window_starts_counting_from_one(store_and_clock):
    store, clock = store_and_clock
    for _ in range(5):
        store.hit("k", limit=2, window=60)
    clock.now += 61
    assert store.hit("k", limit=2, window=60) == 0
    assert store.hit("k", limit=2, window=60) == 0
    assert store.hit("k", limit=2, window=60) > 0


def test_keys_are_counted_separately(store_and_clock):
    store, _ = store_and_clock
    assert store.hit("a", limit=1, window=60) == 0
    assert store.hit("b", limit=1, window=60) == 0
    assert store.hit("a", limit=1, window=60) > 0


@pytest.mark.django_db
def test_refused_attempts_do_not_extend_the_database_window():
    clock = Clock()
    store = DatabaseStore(clock=clock)
    for _ in range(3):
        store.hit("k", limit=1, window=60)
        clock.now += 10
    # Two refusals later the window still ends 60 s after the first attempt.
    assert store.hit("k", limit=1, window=60) == 30
    assert RateLimitCounter.objects.get().window_end == 1_000_060


@pytest.mark.django_db
def test_the_database_store_keeps_one_row_per_key_whatever_the_attempts():
    store = DatabaseStore()
    for _ in range(50):
        store.hit("connect:ip:198.51.100.1", limit=5, window=60)
    store.hit("connect:ip:198.51.100.2", limit=5, window=60)
    assert RateLimitCounter.objects.count() == 2
    assert RateLimitCounter.objects.get(key="connect:ip:198.51.100.1").count == 50


@pytest.mark.django_db
def test_the_locking_path_for_other_databases_counts_like_the_upsert():
    clock = Clock()
    store = DatabaseStore(clock=clock)
    counts = [store._locked("default", "k", int(clock.now), 60) for _ in range(3)]
    assert counts == [(1, 1_000_060), (2, 1_000_060), (3, 1_000_060)]
    clock.now += 60
    assert store._locked("default", "k", int(clock.now), 60) == (1, 1_000_120)


@pytest.mark.django_db
def test_prune_deletes_only_counters_whose_window_has_ended():
    clock = Clock()
    store = DatabaseStore(clock=clock)
    store.hit("old", limit=5, window=10)
    store.hit("current", limit=5, window=100)
    assert prune_counters(now=clock.now + 10) == 1
    assert list(RateLimitCounter.objects.values_list("key", flat=True)) == ["current"]


@pytest.mark.parametrize(
    "key", ["x" * 500, "connect:user:ä", "with space", "new\nline", "\ud800surrogate"]
)
def test_long_or_odd_keys_are_stored_as_a_bounded_hash(key):
    stored = storage_key(key)
    assert stored.startswith("sha256:")
    assert len(stored) <= RateLimitCounter._meta.get_field("key").max_length
    assert storage_key("connect:ip:2001:db8::/64") == "connect:ip:2001:db8::/64"


@pytest.mark.django_db
def test_an_odd_key_is_counted_in_the_database():
    store = DatabaseStore()
    assert store.hit("x" * 500, limit=1, window=60) == 0
    assert store.hit("x" * 500, limit=1, window=60) > 0


def test_cache_store_on_redis_counts_with_the_django_redis_backend(settings, redis_caches):
    settings.CACHES = redis_caches
    store = CacheStore()
    assert [store.hit("k", limit=2, window=60) for _ in range(3)][:2] == [0, 0]
    assert store.hit("k", limit=2, window=60) > 0
    assert store.hit("other", limit=2, window=60) == 0


def _run_processes(store_kind, options, *, processes=4, hits=25, limit=30):
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(processes)
    results = ctx.Queue()
    from tests.ratelimit.workers import hit_many

    workers = [
        ctx.Process(
            target=hit_many,
            args=(store_kind, options, "connect:ip:192.0.2.1", hits, limit, 600, barrier, results),
        )
        for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    allowed = [results.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)
        assert worker.exitcode == 0
    return allowed


def test_processes_hitting_redis_concurrently_never_exceed_the_limit(redis_caches):
    # 4 processes x 25 hits = 100 attempts at a limit of 30: exactly 30 get through.
    allowed = _run_processes("cache", redis_caches)
    assert sum(allowed) == 30


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_processes_hitting_postgresql_concurrently_never_exceed_the_limit():
    assert connection.vendor == "postgresql"
    require_service("postgresql", connection.settings_dict["HOST"] or "127.0.0.1", 5432)
    allowed = _run_processes("database", connection.settings_dict["NAME"])
    assert sum(allowed) == 30
    assert RateLimitCounter.objects.get().count == 100


@pytest.mark.django_db(transaction=True)
def test_threads_hitting_the_database_concurrently_never_exceed_the_limit():
    threads, hits, limit = 8, 20, 50
    store = DatabaseStore()
    barrier = threading.Barrier(threads)
    allowed = []

    def work():
        try:
            barrier.wait(timeout=30)
            allowed.append(sum(store.hit("k", limit=limit, window=600) == 0 for _ in range(hits)))
        finally:
            connections.close_all()

    pool = [threading.Thread(target=work) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    assert len(allowed) == threads
    assert sum(allowed) == limit
    assert RateLimitCounter.objects.get().count == threads * hits
