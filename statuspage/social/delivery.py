"""Sending one outbox row of the "social" channel: a post to one Mastodon or Bluesky account.

Called by the dispatcher (subscriptions/outbox.py, CHANNEL_SENDERS) with the row and the time.
Never retried: the account was removed (EventGone), turned off or its token refused
(SubscriptionError); not needed: the incident is no longer public (Skip). Anything else (the
server down, a 500, a timeout) is retried with backoff and ends failed with the error kept."""

from __future__ import annotations

from datetime import datetime

from ..extensions import db
from ..incidents.models import IncidentUpdate
from ..incidents.visibility import is_public
from ..internal.messages import Skip
from ..subscriptions.messages import EventGone
from ..subscriptions.operations import SubscriptionError
from . import secrets
from .compose import Post, compose
from .models import SocialAccount
from .operations import _posted, content_for, record_post

TIMEOUT_SECONDS = 15
USER_AGENT = "statuspage-social/1"


def send(row, now: datetime) -> None:
    account = db.session.get(SocialAccount, int(row.recipient_key.partition(":")[2]))
    if account is None:
        raise EventGone("the social media account was removed")
    if not account.enabled:
        raise SubscriptionError(f"the account {account.name} is turned off")
    update = db.session.get(IncidentUpdate, int(row.event_key))
    if update is None:
        raise EventGone(f"update {row.event_key} no longer exists")
    incident = update.incident
    if not (update.is_public and is_public(incident)):
        raise Skip("the incident is no longer public")
    if _posted(update, account):  # already posted (a row sent again after a crash)
        return
    try:
        secret = secrets.decrypt(account.secret)
    except secrets.UnreadableSecret as error:
        raise SubscriptionError(str(error)) from None
    post = compose(account.network, content_for(incident, update))
    if account.network == "mastodon":
        remote_id, url = post_to_mastodon(account, secret, post, f"statuspage-{row.id}")
    elif account.network == "bluesky":
        remote_id, url = post_to_bluesky(account, secret, post)
    else:
        raise SubscriptionError(f"{account.network_label} accounts are copy-only")
    record_post(account, update, post.text, remote_id, url)


def post_to_mastodon(account: SocialAccount, token: str, post: Post, key: str) -> tuple[str, str]:
    """POST /api/v1/statuses with Mastodon.py; the idempotency key makes a retry after a lost
    answer post once."""
    import requests
    from mastodon import Mastodon, MastodonNotFoundError, MastodonUnauthorizedError

    with requests.Session() as session:
        client = Mastodon(
            access_token=token, api_base_url=account.base_url, request_timeout=TIMEOUT_SECONDS,
            ratelimit_method="throw", user_agent=USER_AGENT, session=session,
        )  # fmt: skip
        try:
            status = client.status_post(post.text, visibility="public", idempotency_key=key)
        except (MastodonUnauthorizedError, MastodonNotFoundError) as error:
            raise SubscriptionError(f"{account.base_url} refused the token or the address: "
                                    f"{error}") from None  # fmt: skip
    return str(status["id"]), status.get("url") or status.get("uri") or ""


def post_to_bluesky(account: SocialAccount, password: str, post: Post) -> tuple[str, str]:
    """com.atproto.server.createSession then com.atproto.repo.createRecord (an app.bsky.feed.post
    whose link and hashtags are facets), through the atproto library."""
    from atproto import Client, models
    from atproto_client.exceptions import UnauthorizedError
    from atproto_client.request import Request

    rich = models.AppBskyRichtextFacet
    facets = [
        rich.Main(
            features=[rich.Link(uri=facet.uri) if facet.uri else rich.Tag(tag=facet.tag)],
            index=rich.ByteSlice(byte_start=facet.byte_start, byte_end=facet.byte_end),
        )
        for facet in post.facets
    ]
    request = Request(timeout=TIMEOUT_SECONDS, headers={"User-Agent": USER_AGENT})
    try:
        client = Client(base_url=account.base_url, request=request)
        try:
            client.login(account.handle, password, fetch_bsky_profile=False)
        except UnauthorizedError as error:
            raise SubscriptionError(f"{account.base_url} refused the handle or app password: "
                                    f"{error}") from None  # fmt: skip
        created = client.send_post(post.text, profile_identify=account.handle, facets=facets)
    finally:
        request.close()
    record_key = created.uri.rsplit("/", 1)[-1]
    return created.uri, f"https://bsky.app/profile/{account.handle}/post/{record_key}"
