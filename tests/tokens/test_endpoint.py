"""``ws/token``: POST only, CSRF-protected, for logged-in users, rate limited, no secret stored."""

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client
from django.urls import reverse

import apigw_ws
from apigw_ws.contrib.django.models import WebSocketToken
from apigw_ws.contrib.django.token_backend import (
    TOKEN_RE,
    DatabaseTokenBackend,
    hash_session_key,
    hash_token,
)

from .conftest import TOKEN_URL, fetch_token, session_key, set_tokens

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("tokens_on")]


def test_url_name_is_apigw_ws_token():
    assert reverse("apigw_ws:token") == TOKEN_URL


def test_logged_in_post_gets_a_token_and_its_lifetime(logged_in, user):
    response = logged_in.post(TOKEN_URL)
    assert response.status_code == 200
    data = response.json()
    assert set(data) == {"token", "expires_in"}
    assert TOKEN_RE.fullmatch(data["token"])
    assert data["expires_in"] == 60
    assert "no-store" in response["Cache-Control"]
    row = WebSocketToken.objects.get()
    assert row.user == user
    assert (row.expires_at - row.created_at).total_seconds() == 60


def test_expires_in_follows_the_setting(logged_in, settings):
    set_tokens(settings, EXPIRY_SECONDS=15)
    assert logged_in.post(TOKEN_URL).json()["expires_in"] == 15
    row = WebSocketToken.objects.get()
    assert (row.expires_at - row.created_at).total_seconds() == 15


def test_the_database_holds_only_keyed_hashes_of_token_and_session(logged_in):
    token = fetch_token(logged_in)
    key = session_key(logged_in)
    values = [str(v) for v in WebSocketToken.objects.values().get().values()]
    assert not any(token in v or key in v for v in values)
    row = WebSocketToken.objects.get()
    assert row.token_hash == hash_token(token)
    assert row.session_hash == hash_session_key(key)


def test_hashes_are_keyed_with_the_secret_key(settings):
    before = hash_token("A" * 43), hash_session_key("k")
    settings.SECRET_KEY = "another-secret-key"
    assert hash_token("A" * 43) != before[0]
    assert hash_session_key("k") != before[1]


def test_every_token_is_different(logged_in):
    assert fetch_token(logged_in) != fetch_token(logged_in)


@pytest.mark.parametrize("method", ["get", "put", "delete", "patch"])
def test_other_methods_get_405_json(logged_in, method):
    response = getattr(logged_in, method)(TOKEN_URL)
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert response.json() == {"error": "Method not allowed"}
    assert not WebSocketToken.objects.exists()


def test_anonymous_post_gets_401_json(client):
    response = client.post(TOKEN_URL)
    assert response.status_code == 401
    assert response.json() == {"error": "Authentication required"}
    assert not WebSocketToken.objects.exists()


def test_inactive_user_gets_403(client, django_user_model, settings):
    # Only a backend that lets inactive users in can get one this far.
    backend = "django.contrib.auth.backends.AllowAllUsersModelBackend"
    settings.AUTHENTICATION_BACKENDS = [backend]
    client.force_login(django_user_model.objects.create_user("zed", is_active=False))
    response = client.post(TOKEN_URL)
    assert response.status_code == 403
    assert not WebSocketToken.objects.exists()


def test_post_without_csrf_token_is_refused(user):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    assert browser.post(TOKEN_URL).status_code == 403
    assert not WebSocketToken.objects.exists()


def test_post_with_the_csrf_cookie_echoed_in_the_header_succeeds(user):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    browser.get("/admin/login/")  # any page that renders a form sets the CSRF cookie
    csrf = browser.cookies["csrftoken"].value
    response = browser.post(TOKEN_URL, headers={"X-CSRFToken": csrf})
    assert response.status_code == 200
    assert TOKEN_RE.fullmatch(response.json()["token"])


def test_issue_without_a_session_key_creates_a_session(rf, user):
    # e.g. a user authenticated by a header (RemoteUserMiddleware): no login, no session.
    request = rf.post(TOKEN_URL)
    request.session, request.user = SessionStore(), user
    issued = DatabaseTokenBackend().issue(request)
    assert request.session.session_key is not None
    assert SessionStore().exists(request.session.session_key)
    row = WebSocketToken.objects.get()
    assert row.session_hash == hash_session_key(request.session.session_key)
    assert issued.expires_in == 60


def test_without_a_store_the_tokens_of_the_last_minute_are_counted(logged_in, settings):
    set_tokens(settings, MAX_PER_MINUTE=3)
    for _ in range(3):
        fetch_token(logged_in)
    response = logged_in.post(TOKEN_URL)
    assert response.status_code == 429
    assert response.json() == {"error": "Too many requests"}
    assert 1 <= int(response["Retry-After"]) <= 10
    assert WebSocketToken.objects.count() == 3


def test_without_a_store_a_spent_token_frees_its_place_at_once(logged_in, settings, ws_client):
    """30 tabs of one user reconnect at once: each spends its token, none is locked out."""
    set_tokens(settings, MAX_PER_MINUTE=3)
    for _ in range(10):
        token = fetch_token(logged_in)
        conn = ws_client.connect(token=token)
        assert conn.response.status_code == 200
    assert WebSocketToken.objects.filter(used_at__isnull=False).count() == 10
    # Unspent tokens still count: three fetched and never used fill the limit.
    for _ in range(3):
        fetch_token(logged_in)
    assert logged_in.post(TOKEN_URL).status_code == 429


def test_the_limit_is_per_user(logged_in, settings, django_user_model):
    set_tokens(settings, MAX_PER_MINUTE=1)
    fetch_token(logged_in)
    other = Client()
    other.force_login(django_user_model.objects.create_user("bob"))
    assert other.post(TOKEN_URL).status_code == 200
    assert logged_in.post(TOKEN_URL).status_code == 429


class CountingStore:
    """A real fixed-window store kept in memory: enough for one test process."""

    def __init__(self):
        self.hits = {}

    def hit(self, key, *, limit, window):
        self.hits[key] = self.hits.get(key, 0) + 1
        return 0 if self.hits[key] <= limit else window


class StorePlugin:
    def __init__(self):
        self.store = CountingStore()

    @apigw_ws.hookimpl
    def apigw_ws_rate_limit_store(self):
        return self.store


def test_with_a_store_the_issue_limit_is_counted_there(logged_in, user, settings, ws_plugins):
    set_tokens(settings, MAX_PER_MINUTE=2)
    plugin = StorePlugin()
    ws_plugins.add(plugin, name="store")
    fetch_token(logged_in)
    fetch_token(logged_in)
    response = logged_in.post(TOKEN_URL)
    assert response.status_code == 429
    assert response["Retry-After"] == "60"
    assert plugin.store.hits == {f"token:user:{user.pk}": 3}
    assert WebSocketToken.objects.count() == 2


def test_without_the_plugin_the_url_answers_404(logged_in, settings):
    settings.APIGW_WS = {
        **settings.APIGW_WS,
        "PLUGINS": [p for p in settings.APIGW_WS["PLUGINS"] if not p.endswith(".tokens")],
    }
    response = logged_in.post(TOKEN_URL)
    assert response.status_code == 404
    assert response.json() == {"error": "Not found"}
