from django.urls import include, path

urlpatterns = [path("ws/", include("apigw_ws.contrib.django.urls"))]
