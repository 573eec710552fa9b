"""Mount with ``path("ws/", include("apigw_ws.contrib.django.urls"))``."""

from django.urls import path

from . import token_view, views

app_name = "apigw_ws"

urlpatterns = [
    # Before the dispatch pattern; "token" is a reserved route key, so no route shadows it.
    path("token", token_view.token, name="token"),
    path("<str:route>", views.dispatch, name="dispatch"),
]
