"""The documented logging setting keeps a bad ``Host`` on ``ws/`` from mailing admins.

Django logs ``DisallowedHost`` on ``django.security.DisallowedHost`` at ERROR before the
dispatch view runs; docs/security.rst shows the ``CallbackFilter`` with
``apigw_ws.contrib.django.log_filters.not_ws_request`` that drops those records for ``ws/``.
"""

import logging

import pytest
from django.utils.log import AdminEmailHandler, CallbackFilter

from apigw_ws.contrib.django.log_filters import not_ws_request

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_mail(settings, mailoutbox):
    settings.ADMINS = [("Admin", "admin@example.com")]
    settings.ALLOWED_HOSTS = ["good.example.com"]
    handler = AdminEmailHandler()
    handler.setLevel(logging.ERROR)
    handler.addFilter(CallbackFilter(not_ws_request))  # as the docs configure it
    logger = logging.getLogger("django.security.DisallowedHost")
    logger.addHandler(handler)
    logger.propagate = False  # else the "django" logger's mail_admins sends it anyway
    yield mailoutbox
    logger.propagate = True
    logger.removeHandler(handler)


def test_a_bad_host_on_ws_mails_no_one(client, admin_mail):
    response = client.post("/ws/connect", HTTP_HOST="evil.example.net")
    assert response.status_code == 400
    assert admin_mail == []


def test_a_bad_host_elsewhere_still_mails_the_admins(client, admin_mail):
    client.get("/admin/", HTTP_HOST="evil.example.net")
    assert len(admin_mail) == 1
