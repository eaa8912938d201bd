"""Configuration defaults; the instance folder and the environment override them."""

from __future__ import annotations

import os
from datetime import timedelta


def normalise_database_url(url: str) -> str:
    """Accept the usual postgres:// spellings and use psycopg 3 for them."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


class Config:
    SITE_NAME = "Government Service Status"
    # IANA name; every time shown to people is in this zone, with its abbreviation.
    SITE_TIMEZONE = "America/New_York"
    HOLIDAYS_COUNTRY = "US"
    HOLIDAYS_SUBDIVISION: str | None = None

    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    SQLITE_BUSY_TIMEOUT_SECONDS = 5

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    # A lead may take a while to write an update during an incident; keep the form valid.
    WTF_CSRF_TIME_LIMIT = 12 * 3600

    # A signed-in session ends after this long without a request (and after
    # PERMANENT_SESSION_LIFETIME in any case); sessions are kept on the server (users/session.py).
    SESSION_IDLE_MINUTES = 30

    # Failed sign-ins within the window: per account from one address, per address on any
    # account, and a high per-account ceiling from which addresses the account signed in from
    # lately are exempt (users/operations.py, README "Signing in").
    LOGIN_THROTTLE_WINDOW = timedelta(minutes=15)
    LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS = 5
    LOGIN_MAX_FAILURES_PER_ADDRESS = 20
    LOGIN_MAX_FAILURES_PER_ACCOUNT = 100
    # Who must have a second factor (an authenticator app or a passkey) before using the admin:
    # "site_admin" and role keys, a role meaning that role or a higher one in any agency.
    REQUIRE_SECOND_FACTOR_FOR = ["site_admin", "service_owner"]
    # Wrong second-factor codes for one account from anywhere within LOGIN_THROTTLE_WINDOW (the
    # addresses it signed in from lately exempt); per account and address the password's limit.
    SECOND_FACTOR_MAX_FAILURES_PER_ACCOUNT = 20
    # Passkeys (WebAuthn): the relying party id; none means the host the admin is reached at.
    WEBAUTHN_RP_ID: str | None = None
    # Single sign-on with OpenID Connect: off until an issuer, a client id and a secret are set.
    OIDC_ISSUER: str | None = None
    OIDC_CLIENT_ID: str | None = None
    OIDC_CLIENT_SECRET: str | None = None
    OIDC_PROVIDER_NAME = "your organisation's account"
    # One-time links to choose a password, and the limits on asking for a reset link.
    INVITATION_VALID_FOR = timedelta(hours=72)
    PASSWORD_RESET_VALID_FOR = timedelta(hours=1)
    PASSWORD_RESET_LIMIT_PER_CLIENT = "10 per hour"
    PASSWORD_RESET_LIMIT_PER_ADDRESS = "3 per hour"

    # Where links in emails and the public pages' canonical links point.
    SITE_URL = "http://127.0.0.1:5000"
    # The largest request body (the forms need a few KB): a larger one is refused with 413 before
    # it is read. deploy/nginx-statuspage.conf's client_max_body_size matches it.
    MAX_CONTENT_LENGTH = 1024 * 1024
    # Email: with no MAIL_SERVER, messages are written to instance/mail/ instead.
    MAIL_SERVER: str | None = None
    MAIL_PORT = 25
    MAIL_USE_TLS = False
    MAIL_USERNAME: str | None = None
    MAIL_PASSWORD: str | None = None
    MAIL_FROM = "status@example.gov"
    # Scheduled jobs (deadline reminders, auto-close) run inside the app unless turned off.
    SCHEDULER_ENABLED = True
    JOB_INTERVAL_SECONDS = 30
    # The morning summary to each agency's service owners and CIO goes from this hour (0-23)
    # in SITE_TIMEZONE, once a day.
    DAILY_SUMMARY_HOUR = 8

    # Text is sent compressed (brotli or gzip) to the browsers that accept it.
    COMPRESS_ALGORITHM = ["br", "gzip"]
    # Streamed responses (static files) are left to the proxy: compressing them here leaks files.
    COMPRESS_STREAMS = False
    COMPRESS_MIMETYPES = [
        "text/html",
        "text/css",
        "text/plain",
        "text/calendar",
        "application/json",
        "application/javascript",
        "text/javascript",
        "application/rss+xml",
        "application/atom+xml",
    ]
    # Public pages: a CDN or browser may keep them briefly, and serve stale copies while it
    # revalidates or while the site is down.
    # A folder to keep a static copy of the public site in, refreshed after each change by the
    # scheduled jobs (none by default; `statuspage export-static DIR` writes one on demand).
    STATIC_EXPORT_DIR = None
    # Public pages are rendered once per change and kept in each worker's memory (public/cache.py);
    # each worker looks at the site's version at most once per PAGE_CACHE_CHECK_SECONDS.
    PAGE_CACHE_ENABLED = True
    PAGE_CACHE_ENTRIES = 256
    PAGE_CACHE_CHECK_SECONDS = 1.0
    PUBLIC_CACHE_CONTROL = "public, max-age=30, stale-while-revalidate=60, stale-if-error=86400"

    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_KEY_PREFIX = "statuspage"
    # Redis down: count in this process's memory with the same limits (one warning is logged; the
    # shared storage is tried again with growing pauses) rather than answer 500. Short timeouts so
    # a dead or unreachable server costs a request little.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_STORAGE_OPTIONS = {"socket_connect_timeout": 1, "socket_timeout": 1}
    SUBSCRIBE_LIMIT_PER_CLIENT = "20 per hour"
    SUBSCRIBE_LIMIT_PER_ADDRESS = "5 per hour"
    # Text messages (SMS): off until SMS_PROVIDER is "twilio" and its settings are set (README
    # "Text messages (SMS)"). A sender: TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID.
    SMS_PROVIDER: str | None = None
    TWILIO_ACCOUNT_SID: str | None = None
    TWILIO_AUTH_TOKEN: str | None = None
    TWILIO_FROM_NUMBER: str | None = None
    TWILIO_MESSAGING_SERVICE_SID: str | None = None
    TWILIO_API_BASE_URL: str | None = None  # Twilio's own unless set (tests use a stand-in)
    # Numbers typed without a country code are read in this region; only numbers of the allowed
    # regions (ISO 3166 codes) are texted.
    SMS_DEFAULT_REGION = "US"
    SMS_ALLOWED_REGIONS = ["US", "PR", "VI", "GU", "AS", "MP"]
    SMS_CODE_VALID_FOR = timedelta(minutes=15)
    SMS_CODE_ATTEMPTS = 5
    # Every code sent costs money and SMS pumping fraud sends many: per client, per number, and a
    # ceiling on all sign-ups together.
    SMS_SIGNUP_LIMIT_PER_CLIENT = "10 per hour"
    SMS_SIGNUP_LIMIT_PER_NUMBER = "3 per hour;5 per day"
    SMS_SIGNUP_LIMIT_SITE = "300 per hour"
    SMS_CONFIRM_LIMIT_PER_CLIENT = "30 per hour"
    # Requests per API key (the manage API at /api/v1, README "API keys"); over it: 429.
    API_RATE_LIMIT = "60 per minute"
    # Webhooks may not target private or loopback addresses (tests turn this on).
    WEBHOOKS_ALLOW_PRIVATE = False

    # Behind a reverse proxy, set to the number of proxies so client addresses are right.
    PROXY_COUNT = 0


def from_environment() -> dict:
    """Settings that may come from the environment (they win over the instance file)."""
    settings: dict = {}
    if url := os.environ.get("DATABASE_URL"):
        settings["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(url)
    if key := os.environ.get("SECRET_KEY"):
        settings["SECRET_KEY"] = key
    if zone := os.environ.get("SITE_TIMEZONE"):
        settings["SITE_TIMEZONE"] = zone
    for name in (
        "SITE_URL", "MAIL_SERVER", "MAIL_USERNAME", "MAIL_PASSWORD", "MAIL_FROM", "STATIC_EXPORT_DIR",
        "OIDC_ISSUER", "OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET",
        "SMS_PROVIDER", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER",
        "TWILIO_MESSAGING_SERVICE_SID", "SMS_DEFAULT_REGION",
    ):  # fmt: skip
        if value := os.environ.get(name):
            settings[name] = value
    if redis_url := os.environ.get("REDIS_URL"):
        settings["RATELIMIT_STORAGE_URI"] = redis_url
    if port := os.environ.get("MAIL_PORT"):
        settings["MAIL_PORT"] = int(port)
    for name in ("MAIL_USE_TLS", "SCHEDULER_ENABLED"):
        if os.environ.get(name):
            settings[name] = os.environ[name].lower() in ("1", "true", "yes", "on")
    if proxies := os.environ.get("PROXY_COUNT"):
        settings["PROXY_COUNT"] = int(proxies)
    if hour := os.environ.get("DAILY_SUMMARY_HOUR"):
        settings["DAILY_SUMMARY_HOUR"] = int(hour)
    return settings
