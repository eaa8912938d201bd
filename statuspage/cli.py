"""Command line: `statuspage setup | create-user | load-demo | serve | db ...`."""

from __future__ import annotations

import os
import secrets
import socket
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import ScriptInfo, with_appcontext
from flask_migrate.cli import db as db_command
from flask_migrate import upgrade
from sqlalchemy import select

from .catalog.models import Agency
from .extensions import db
from .users.models import Role

DEMO_LOGINS_FILE = "demo-logins.txt"


def _cli_app() -> Flask:
    from . import create_app

    return create_app(for_cli=True)


class Commands(click.Group):
    """`statuspage …`: the project's commands only (and `db` for migrations), listed without
    building the app; a start-up mistake ends in the operator's message, not a traceback."""

    def make_context(self, info_name, args, parent=None, **extra):
        extra.setdefault("obj", ScriptInfo(create_app=_cli_app, set_debug_flag=False))
        return super().make_context(info_name, args, parent=parent, **extra)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as error:
            from .startup import explain

            message = explain(error, _database_url(ctx))
            if message is None:
                raise
            raise click.ClickException(message) from None


def _database_url(ctx: click.Context) -> str | None:
    app = getattr(ctx.obj, "_loaded_app", None)
    if app is not None:
        return app.config["SQLALCHEMY_DATABASE_URI"]
    return os.environ.get("DATABASE_URL")


@click.group(cls=Commands)
def main() -> None:
    """Manage the status page."""


def _require_secret_key() -> None:
    """Commands that sign links or serve sessions refuse the key the CLI makes up for itself."""
    if made_up := current_app.extensions.get("made_up_secret_key"):
        raise click.ClickException(str(made_up))


def _require_free_port(host: str, port: int) -> None:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise click.ClickException(
                f"Cannot listen on {host}:{port} ({error.strerror}): another server (perhaps "
                "another `statuspage serve`) is using it. Stop it or choose another --port."
            ) from None


def register_commands(app: Flask) -> None:
    for command in COMMANDS:
        app.cli.add_command(command)


def ensure_secret_key(instance: Path) -> bool:
    """Create the instance folder and a random secret key once; True when it was created."""
    from . import SECRET_KEY_FILE

    instance.mkdir(parents=True, exist_ok=True)
    secret_file = instance / SECRET_KEY_FILE
    if secret_file.exists():
        return False
    secret_file.write_text(secrets.token_hex(32) + "\n")
    secret_file.chmod(0o600)
    return True


@click.command("setup")
@click.option(
    "--demo/--no-demo",
    default=None,
    help="Load made-up demo data into an empty database, or never. Without either: asked at a "
    "terminal, loaded otherwise.",
)
@with_appcontext
def setup_command(demo: bool | None) -> None:
    """Create the instance folder and secret key, migrate the database, load demo data."""
    from .demo import database_is_empty, load_demo_data

    instance = Path(current_app.instance_path)
    if ensure_secret_key(instance):
        click.echo(f"Created a secret key in {instance}.")
    upgrade(directory=current_app.extensions["migrate"].directory)
    click.echo("The database is up to date.")
    logins_file = instance / DEMO_LOGINS_FILE
    if demo is None and database_is_empty():
        demo = not sys.stdin.isatty() or click.confirm(
            "The database is empty. Load the demo data (made-up agencies, services, incidents and "
            "logins; answer no for a real site)?",
            default=False,
        )
    if demo and database_is_empty():
        click.echo("Loading demo data…")
        logins = load_demo_data()
        logins_file.write_text(
            "".join(f"{login.description}: {login.email} / {login.password}\n" for login in logins)
        )
        logins_file.chmod(0o600)
    if logins_file.exists():
        click.echo("\nSign in at /admin/login with:")
        click.echo(logins_file.read_text().rstrip())
    elif database_is_empty():
        click.echo("No users yet: create one with `statuspage create-user`.")


@click.command("create-user")
@click.argument("email")
@click.option("--name", default="", help="The person's name.")
@click.option("--site-admin", is_flag=True, help="Give access to every agency.")
@click.option("--agency", "agency_slug", help="The agency slug for --role.")
@click.option(
    "--role",
    type=click.Choice([role.key for role in Role]),
    help="The role in --agency.",
)
@click.password_option(
    prompt="Password (leave empty to generate one)",
    default="",
    show_default=False,
    help="At least 12 characters; generated and printed when empty.",
)
@with_appcontext
def create_user_command(email, name, site_admin, agency_slug, role, password) -> None:
    """Create a user, optionally with a role in one agency."""
    from .users.operations import UserError, create_user

    roles = {}
    if bool(agency_slug) != bool(role):
        raise click.UsageError("--agency and --role go together.")
    if agency_slug:
        agency = db.session.scalars(select(Agency).where(Agency.slug == agency_slug)).first()
        if agency is None:
            raise click.BadParameter(
                f"no agency with the slug {agency_slug!r}", param_hint="--agency"
            )
        roles[agency] = Role.from_key(role)
    generated = not password
    password = password or secrets.token_urlsafe(12)
    try:
        user = create_user(email, name, password, site_admin=site_admin, roles=roles)
    except UserError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Created {user.email}.")
    if generated:
        click.echo(f"Password: {password}")


@click.command("add-dependency")
@click.argument("service_slug")
@click.option("--on", "platform_slug", required=True, help="The shared platform it relies on.")
@with_appcontext
def add_dependency_command(service_slug: str, platform_slug: str) -> None:
    """Record that a service relies on a shared platform (an incident there affects it too)."""
    from .catalog.dependencies import DependencyError, add_dependency
    from .catalog.queries import service_by_slug

    service, platform = service_by_slug(service_slug), service_by_slug(platform_slug)
    for slug, found in ((service_slug, service), (platform_slug, platform)):
        if found is None:
            raise click.ClickException(f"No service {slug!r}; see the slugs on the public site.")
    try:
        add_dependency(service, platform)
    except DependencyError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"{service.name} now depends on {platform.name}.")


@click.command("add-contact")
@click.argument("position")
@click.argument("email")
@click.option("--name", required=True)
@click.option("--agency", "agency_slug", default=None, help="Omit for a site-wide position.")
@click.option("--phone", default="")
@click.option("--backup", is_flag=True, help="Told only when nobody else holds the position.")
@with_appcontext
def add_contact_command(position, email, name, agency_slug, phone, backup) -> None:
    """Put someone on the duty roster (agency_cio, cdo, ciso, legal, public_relations, on_call)."""
    from .internal.roster import RosterError, add_contact

    try:
        contact = add_contact(position, email, name=name, agency_slug=agency_slug, phone=phone,
                              backup=backup)  # fmt: skip
    except RosterError as error:
        raise click.ClickException(str(error)) from None
    where = contact.agency.name if contact.agency else "the whole site"
    click.echo(f"{contact.name} <{contact.email}> is {contact.position_enum.label} for {where}.")


@click.command("create-api-key")
@click.option(
    "--agency", "agency_slug", required=True, help="The agency (its slug) the key is for."
)
@click.option(
    "--scope", "scopes", multiple=True, required=True,
    help="What the key may do: read, incidents, maintenance, components (repeat for several).",
)  # fmt: skip
@click.option("--name", default="Command line", show_default=True, help="What will use the key.")
@with_appcontext
def create_api_key_command(agency_slug: str, scopes: tuple[str, ...], name: str) -> None:
    """Create an API key for the manage API (/api/v1) and print it, once."""
    from .api_keys.operations import ApiKeyError, create_key

    agency = db.session.scalars(select(Agency).where(Agency.slug == agency_slug)).first()
    if agency is None:
        known = ", ".join(db.session.scalars(select(Agency.slug).order_by(Agency.slug)))
        raise click.ClickException(
            f"No agency with the slug {agency_slug!r}; the slugs are: {known or 'none yet'}."
        )
    try:
        key, plaintext = create_key(agency, name, set(scopes), by=None)
    except ApiKeyError as error:
        raise click.ClickException(error.message) from None
    click.echo(
        f"Created API key {key.id} ({key.name!r}) for {agency.name}: {', '.join(key.scopes)}."
    )
    click.echo(plaintext)
    click.echo("This is the only time the key is shown: copy it now.", err=True)


@click.command("revoke-api-key")
@click.argument("key_id", metavar="ID", type=int)
@with_appcontext
def revoke_api_key_command(key_id: int) -> None:
    """Revoke an API key (its id is printed when it is made, and by list-api-keys)."""
    from .api_keys.models import ApiKey
    from .api_keys.operations import revoke_key

    key = db.session.get(ApiKey, key_id)
    if key is None:
        raise click.ClickException(
            f"No API key with the id {key_id}; see `statuspage list-api-keys`."
        )
    if revoke_key(key, by=None):
        click.echo(
            f"Revoked API key {key.id} ({key.name!r}, {key.agency.name}): it stops working now."
        )
    else:
        click.echo(f"API key {key.id} ({key.name!r}, {key.agency.name}) was revoked already.")


@click.command("list-api-keys")
@click.option("--agency", "agency_slug", default=None, help="Only this agency's keys.")
@with_appcontext
def list_api_keys_command(agency_slug: str | None) -> None:
    """List API keys: id, agency, name, scopes, last use, revoked (never the keys themselves)."""
    from .api_keys.operations import keys_of

    query = select(Agency.id)
    if agency_slug:
        query = query.where(Agency.slug == agency_slug)
    found = keys_of(list(db.session.scalars(query)))
    for key in sorted(found, key=lambda k: k.id):
        used = key.last_used_at.isoformat(timespec="minutes") if key.last_used_at else "never used"
        state = (
            f"revoked {key.revoked_at.isoformat(timespec='minutes')}" if key.revoked else "in use"
        )
        click.echo(
            f"{key.id}\t{key.agency.slug}\t{key.name}\t{','.join(key.scopes)}\t{used}\t{state}"
        )
    if not found:
        click.echo("No API keys.", err=True)


@click.command("load-demo")
@with_appcontext
def load_demo_command() -> None:
    """Load demo agencies, services, users and incidents into an empty database."""
    from .demo import database_is_empty, load_demo_data

    if not database_is_empty():
        raise click.ClickException(
            "The database already has agencies; demo data goes into an empty one."
        )
    for login in load_demo_data():
        click.echo(f"{login.description}: {login.email} / {login.password}")


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int, help="Processes (one a core).")
@click.option("--threads", default=8, show_default=True, type=int, help="Threads per process.")
@click.option("--access-log/--no-access-log", default=False, show_default=True)
@with_appcontext
def serve_command(host: str, port: int, workers: int, threads: int, access_log: bool) -> None:
    """Run the production server (Granian, a WSGI server with its HTTP in Rust)."""
    from .schema import SchemaNotCurrent, check_schema_current

    _require_secret_key()
    try:
        check_schema_current()
    except SchemaNotCurrent as error:
        raise click.ClickException(str(error)) from None
    _require_free_port(host, port)
    click.echo(f"Serving on http://{host}:{port}  (Ctrl+C to stop)", err=True)
    sys.stdout.flush()
    args = [
        sys.executable, "-m", "granian", "--interface", "wsgi", "--no-ws",
        "--host", host, "--port", str(port),
        "--workers", str(workers), "--blocking-threads", str(threads),
        "--respawn-failed-workers", "--log-level", "info",
        "--access-log" if access_log else "--no-access-log",
        "statuspage.wsgi:app",
    ]  # fmt: skip
    os.execv(sys.executable, args)


@click.command("run-jobs")
@click.option(
    "--at", "at", default=None, help="Run as of this UTC time (ISO 8601), e.g. to replay a gap."
)
@with_appcontext
def run_jobs_command(at: str | None) -> None:
    """Run the scheduled jobs once (deadline reminders, missed deadlines, auto-close)."""
    from datetime import UTC, datetime

    from . import clock, jobs
    from .date_range import YEARS, within

    _require_secret_key()
    moment = clock.now()
    if at:
        try:
            moment = datetime.fromisoformat(at)
        except ValueError:
            raise click.BadParameter(f"{at!r} is not an ISO 8601 time", param_hint="--at") from None
        if not within(moment):
            raise click.BadParameter(f"{at!r} is not {YEARS}", param_hint="--at")
        moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
    with clock.pinned(moment):
        result = jobs.run_all(moment)
    run, sent = result["clock"], result["dispatch"]
    click.echo(
        f"reminders queued {run.reminders_queued}; missed deadlines recorded "
        f"{run.misses_recorded}; auto-close {result['auto_close']}; outbox: sent {sent.sent}, "
        f"retried {sent.retried}, failed {sent.failed}, skipped {sent.skipped}; "
        f"monthly reports drafted {result['monthly_drafts']}"
    )


@click.command("dispatch")
@click.option("--until-empty", is_flag=True, help="Keep sending batches until nothing is due.")
@click.option(
    "--forever", is_flag=True, help="Keep sending, looking for new messages every --poll seconds."
)
@click.option("--poll", default=2.0, show_default=True, help="Seconds between looks (--forever).")
@click.option("--batch", default=200, show_default=True, help="Rows claimed per batch.")
@with_appcontext
def dispatch_command(until_empty: bool, forever: bool, poll: float, batch: int) -> None:
    """Send what the outbox holds (run several at once on PostgreSQL to share the load)."""
    from .subscriptions import outbox

    _require_secret_key()
    if forever:
        from .dispatcher import run_forever

        run_forever(batch, poll)
        return
    run = outbox.dispatch_until_empty(batch) if until_empty else outbox.dispatch(batch_size=batch)
    click.echo(
        f"claimed {run.claimed}, sent {run.sent}, retried {run.retried}, failed {run.failed}"
    )


@click.command("export-static")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@with_appcontext
def export_static_command(directory: Path) -> None:
    """Write the public site (pages, feeds, API JSON, assets) as plain files into DIRECTORY."""
    from .public.export import ExportError, export_site

    try:
        result = export_site(current_app._get_current_object(), directory)
    except ExportError as error:
        raise click.ClickException(str(error)) from None
    click.echo(
        f"Wrote {result.written} files to {directory} (site version {result.version}); "
        f"removed {result.removed} that are no longer public."
    )


@click.command("worker")
@with_appcontext
def worker_command() -> None:
    """Run the scheduled jobs in the foreground (one process in the cluster runs them at a time)."""
    from .scheduler import run_in_foreground

    _require_secret_key()
    run_in_foreground(current_app._get_current_object())


COMMANDS = (
    setup_command, create_user_command, load_demo_command, serve_command, run_jobs_command,
    worker_command, dispatch_command, export_static_command, add_dependency_command,
    add_contact_command, create_api_key_command, revoke_api_key_command, list_api_keys_command,
)  # fmt: skip
for _command in (*COMMANDS, db_command):
    main.add_command(_command)


if __name__ == "__main__":
    main()
