"""The admin: signed-in staff log incidents and publish updates. Guarded once, here: every view
declares who may use it (``permissions.allow``) and ``guard`` enforces that before the view runs."""

from flask import Blueprint, current_app, flash, g, redirect, request, url_for
from flask_login import current_user

from ..users import held_posts
from .permissions import UndeclaredPermission, check_declarations, declared


class GuardedBlueprint(Blueprint):
    """A blueprint whose app does not start while one of its endpoints declares no permission."""

    def register(self, app, options):
        super().register(app, options)
        check_declarations(app, self.name)


admin = GuardedBlueprint("admin", __name__)


@admin.before_request
def guard():
    """Strangers go to the sign-in page (except for the open endpoints: the way in); then the
    endpoint's declared permission is checked and what its URL names is loaded into ``g``."""
    permission = None
    if request.endpoint is not None:  # None: no such page or method, a 404 or 405 to come
        permission = declared(current_app.view_functions[request.endpoint])
        if permission is None:
            raise UndeclaredPermission(f"{request.endpoint} declares no permission")
        if not permission.sign_in:
            return None
    if not current_user.is_authenticated:
        return redirect(url_for("admin.login", next=_held_or_here()))
    if permission is not None:
        permission.enforce(request.view_args or {})
    return None


def _held_or_here() -> str:
    """Where to go after signing in: this page, or, when a form was sent by someone whose session
    had just timed out, the page that gives them back what they typed."""
    here = request.full_path.rstrip("?")
    user_id = g.get("timed_out_user_id")
    if request.method == "POST" and user_id is not None:
        token = held_posts.hold(user_id, here, request.form)
        if token is not None:
            flash("What you were sending is kept: sign in to send it.", "info")
            return url_for("admin.held_post", token=token)
    return here


@admin.after_request
def no_caching(response):
    response.headers["Cache-Control"] = "no-store"
    return response


from . import audit, auth, communications, delivery, incidents, monthly, reviews  # noqa: E402,F401
from . import internal  # noqa: E402,F401
from . import war_room  # noqa: E402,F401
from . import triage  # noqa: E402,F401
from . import users  # noqa: E402,F401
from . import catalog, policy  # noqa: E402,F401
from . import passkey_views, second_factor, single_sign_on  # noqa: E402,F401
from . import press  # noqa: E402,F401
from . import social  # noqa: E402,F401
from . import api_keys  # noqa: E402,F401
from . import alerts  # noqa: E402,F401
from . import quarterly  # noqa: E402,F401
