"""The sessions admin shows how long each connection has lasted (no message count is kept)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apigw_ws.contrib.django.models import WebSocketSession

pytestmark = pytest.mark.django_db


def test_the_changelist_shows_how_long_each_connection_lasted(ws_client, admin_client):
    live, ended = ws_client.connect(), ws_client.connect()
    now = timezone.now()
    WebSocketSession.objects.filter(connection_id=live.connection_id).update(
        connected_at=now - timedelta(minutes=5)
    )
    WebSocketSession.objects.filter(connection_id=ended.connection_id).update(
        connected_at=now - timedelta(hours=2), disconnected_at=now - timedelta(minutes=30)
    )
    page = admin_client.get(reverse("admin:apigw_ws_websocketsession_changelist")).content
    assert b"connected for" in page.lower()
    assert b"1:30:00" in page
    assert b"0:05:0" in page  # five minutes and the seconds the request took
