"""Both backlog stores, for real: the database (SQLite/PostgreSQL) and the cache (Redis)."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from apigw_ws.backends import BacklogStore
from apigw_ws.contrib.django.models import BacklogMessage
from apigw_ws.contrib.django.recovery import CacheBacklog, DatabaseBacklog

pytestmark = pytest.mark.django_db


def encoder(text):
    return lambda seq: json.dumps({"seq": seq, "text": text})


@pytest.fixture(params=["database", "redis"])
def make_store(request):
    if request.param == "database":
        return lambda messages, age: DatabaseBacklog(messages, age)
    request.getfixturevalue("redis_cache")
    return lambda messages, age: CacheBacklog(messages, age)


def append(store, channel, *texts):
    return [json.loads(store.append(channel, f"id-{t}", encoder(t)))["seq"] for t in texts]


def test_each_channel_numbers_its_messages_from_one(make_store):
    store = make_store(100, 300)
    assert isinstance(store, BacklogStore)
    assert append(store, "lobby", "a", "b", "c") == [1, 2, 3]
    assert append(store, "random", "x") == [1]
    assert store.read("lobby", None).last_seq == 3
    assert store.read("never-used", 0).last_seq == 0


def test_read_returns_the_messages_after_the_given_sequence_in_order(make_store):
    store = make_store(100, 300)
    append(store, "lobby", "a", "b", "c", "d")
    backlog = store.read("lobby", 2)
    assert [seq for seq, _ in backlog.entries] == [3, 4]
    assert [json.loads(text)["text"] for _, text in backlog.entries] == ["c", "d"]
    assert store.read("lobby", 4).entries == ()


def test_only_the_last_max_messages_are_kept(make_store):
    store = make_store(3, 300)
    append(store, "lobby", *"abcdef")
    assert [seq for seq, _ in store.read("lobby", 0).entries] == [4, 5, 6]


def test_the_database_store_deletes_what_the_count_limit_drops():
    store = DatabaseBacklog(3, 300)
    append(store, "lobby", *"abcdef")
    assert list(BacklogMessage.objects.values_list("seq", flat=True).order_by("seq")) == [4, 5, 6]


def test_the_database_store_never_returns_nor_keeps_messages_past_the_age_limit():
    store = DatabaseBacklog(100, 60)
    append(store, "lobby", "old", "older")
    BacklogMessage.objects.update(created_at=timezone.now() - timedelta(seconds=61))
    append(store, "lobby", "new")
    assert [seq for seq, _ in store.read("lobby", 0).entries] == [3]
    assert BacklogMessage.objects.count() == 1, "the send trimmed the aged rows"


def test_the_cache_store_keeps_each_message_only_as_long_as_the_age_limit(redis_cache):
    store = CacheBacklog(100, 60)
    append(store, "lobby", "a")
    raw = redis_cache._cache.get_client(None)
    key = redis_cache.make_and_validate_key(f"{CacheBacklog.prefix}lobby:1")
    counter = redis_cache.make_and_validate_key(f"{CacheBacklog.prefix}lobby:seq")
    assert 0 < raw.ttl(key) <= 60
    assert raw.ttl(counter) == -1, "the counter must outlive the messages"


def test_the_cache_store_stops_at_a_hole_left_by_an_eviction(redis_cache):
    store = CacheBacklog(100, 60)
    append(store, "lobby", *"abcd")
    redis_cache.delete(f"{CacheBacklog.prefix}lobby:3")
    assert [seq for seq, _ in store.read("lobby", 0).entries] == [1, 2]


def test_one_database_send_is_four_statements(django_assert_max_num_queries):
    store = DatabaseBacklog(100, 300)
    append(store, "lobby", "first")  # creates the counter
    # UPDATE counter, SELECT it, INSERT message, DELETE the trimmed; inside the test's
    # transaction the atomic block adds a SAVEPOINT and its RELEASE.
    with django_assert_max_num_queries(6) as captured:
        append(store, "lobby", "second")
    statements = [q["sql"].split()[0] for q in captured.captured_queries]
    assert [s for s in statements if s not in ("SAVEPOINT", "RELEASE")] == [
        "UPDATE",
        "SELECT",
        "INSERT",
        "DELETE",
    ]
