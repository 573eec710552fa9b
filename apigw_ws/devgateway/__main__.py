"""``python -m apigw_ws.devgateway --target http://127.0.0.1:8000/ws/``: no Django needed."""

import sys

from .cli import main

sys.exit(main())
