# The local gateway's Management API, as the sending tests use it.
from tests.sending.conftest import aws_credentials, gateway, start_gateway  # noqa: F401
