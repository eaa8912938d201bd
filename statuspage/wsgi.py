"""The production entry point, `statuspage.wsgi:app` (for Granian, gunicorn or any WSGI server).

Refuses an unmigrated database."""

import sys

from . import MissingSecretKey, create_app
from .schema import SchemaNotCurrent

try:
    app = create_app()
except (MissingSecretKey, SchemaNotCurrent) as error:
    sys.exit(f"statuspage cannot start: {error}")
