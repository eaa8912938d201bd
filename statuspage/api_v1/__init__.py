"""The manage API, v1, at /api/v1: Statuspage's manage API for clients written against it (an
agency is a page, its slug the ``page_id``). JSON only, no cookies, no CSRF token: every view
declares the API key it needs with ``key_required`` (the blueprint does not start without it)."""

from flask import Blueprint

from ..api_keys.auth import check_declarations
from ..api_keys.errors import register_blueprint_handlers


class KeyedBlueprint(Blueprint):
    """A blueprint whose app does not start while one of its endpoints declares no API key."""

    def register(self, app, options):
        super().register(app, options)
        check_declarations(app, self.name)


api_v1 = KeyedBlueprint("api_v1", __name__)
register_blueprint_handlers(api_v1)


@api_v1.after_request
def no_caching(response):
    response.headers["Cache-Control"] = "no-store"
    return response


from . import pages  # noqa: F401
from . import manage  # noqa: F401
from . import alertmanager  # noqa: E402,F401
