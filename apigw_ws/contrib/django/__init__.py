"""The Django app: add ``"apigw_ws.contrib.django"`` to ``INSTALLED_APPS``."""
