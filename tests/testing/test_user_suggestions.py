"""``ws_user`` with a permission that does not exist suggests the ones that do."""

import pytest
from _pytest.outcomes import Failed

from apigw_ws.testing.users import similar_names

pytestmark = pytest.mark.django_db


def failure(ws_user, permission):
    with pytest.raises(Failed) as failed:
        ws_user(permission)
    return str(failed.value)


def test_a_misspelt_codename_suggests_the_permission_meant(ws_user):
    message = failure(ws_user, "auth.view_usr")
    assert "no permission 'auth.view_usr'" in message
    assert "(similar: auth.view_user" in message


def test_a_codename_without_its_app_label_suggests_the_full_name(ws_user):
    assert "(similar: auth.view_user" in failure(ws_user, "view_user")


def test_a_wrong_app_label_suggests_the_right_one(ws_user):
    assert "(similar: auth.change_group" in failure(ws_user, "admin.change_group")


def test_nothing_alike_says_none(ws_user):
    assert "(similar: none)" in failure(ws_user, "shop.refund_order")


def test_similar_names_put_the_closest_first_and_stop_at_the_limit():
    known = [f"auth.{verb}_user" for verb in ("add", "change", "delete", "view")]
    assert similar_names("auth.view_usr", known)[0] == "auth.view_user"
    assert len(similar_names("auth.user", known, limit=2)) <= 2
