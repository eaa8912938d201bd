"""The production entry point, `statuspage.wsgi:app` (for Granian, gunicorn or any WSGI server).

Refuses an unmigrated database."""

import os
import sys

from . import create_app
from .startup import explain

try:
    app = create_app()
except Exception as error:
    if (message := explain(error, os.environ.get("DATABASE_URL"))) is None:
        raise
    sys.exit(f"statuspage cannot start: {message}")
