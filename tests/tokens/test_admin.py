"""The token admin is read-only and shows nothing a client could present."""

import pytest

from apigw_ws.contrib.django.models import WebSocketToken
from apigw_ws.contrib.django.token_backend import hash_session_key, hash_token

from .conftest import fetch_token, session_key

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("tokens_on")]


@pytest.fixture
def staff(admin_client):
    return admin_client


def test_list_and_detail_show_neither_secrets_nor_their_hashes(staff, logged_in):
    token = fetch_token(logged_in)
    key = session_key(logged_in)
    row = WebSocketToken.objects.get()
    pages = [
        staff.get("/admin/apigw_ws/websockettoken/").content.decode(),
        staff.get(f"/admin/apigw_ws/websockettoken/{row.pk}/change/").content.decode(),
    ]
    assert "alice" in pages[0]
    for page in pages:
        for secret in (token, key, hash_token(token), hash_session_key(key)):
            assert secret not in page


def test_tokens_cannot_be_added_or_edited(staff, logged_in):
    fetch_token(logged_in)
    row = WebSocketToken.objects.get()
    assert staff.get("/admin/apigw_ws/websockettoken/add/").status_code == 403
    before = WebSocketToken.objects.values().get()
    staff.post(f"/admin/apigw_ws/websockettoken/{row.pk}/change/", {"used_at": ""})
    assert WebSocketToken.objects.values().get() == before
