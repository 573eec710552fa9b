import datetime

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from apigw_ws.contrib.django.models import WebSocketToken
from apigw_ws.contrib.django.token_backend import hash_session_key, hash_token

TOKENS_PLUGIN = "apigw_ws.builtin_plugins.tokens"
TOKEN_URL = "/ws/token"


@pytest.fixture
def tokens_on(settings):
    """Switch the built-in token plugin on (after the test suite's own plugins)."""
    settings.APIGW_WS = {
        **settings.APIGW_WS,
        "PLUGINS": [*settings.APIGW_WS["PLUGINS"], TOKENS_PLUGIN],
    }
    return settings


def set_tokens(settings, **options):
    settings.APIGW_WS = {**settings.APIGW_WS, "TOKENS": options}


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user("alice", password="pw")


@pytest.fixture
def logged_in(client, user):
    """The test client, logged in as ``user`` (a real session row and cookie)."""
    client.force_login(user)
    return client


def session_key(client):
    return client.cookies[django_settings.SESSION_COOKIE_NAME].value


def fetch_token(client):
    response = client.post(TOKEN_URL)
    assert response.status_code == 200, response.content
    return response.json()["token"]


def stored_token(user, key, token="A" * 43, *, expires_in=60, used=False):
    """Insert a token row directly, as ``ws/token`` would have (for odd states and speed)."""
    now = timezone.now()
    WebSocketToken.objects.create(
        token_hash=hash_token(token),
        session_hash=hash_session_key(key) if key else "",
        user=user,
        created_at=now,
        expires_at=now + datetime.timedelta(seconds=expires_in),
        used_at=now if used else None,
    )
    return token


def unspent(token):
    return WebSocketToken.objects.get(token_hash=hash_token(token)).used_at is None
