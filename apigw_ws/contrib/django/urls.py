"""Mount with ``path("ws/", include("apigw_ws.contrib.django.urls"))``."""

from django.urls import path

from . import views

app_name = "apigw_ws"

urlpatterns = [
    path("<str:route>", views.dispatch, name="dispatch"),
]
