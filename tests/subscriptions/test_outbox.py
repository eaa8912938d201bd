"""The outbox: written with the publish, sent once, retried with backoff, never lost."""

import socket
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from statuspage import clock
from statuspage.extensions import db
from statuspage.incidents.models import IncidentUpdate, State
from statuspage.incidents.operations import publish_update
from statuspage.subscriptions import outbox
from statuspage.subscriptions.models import Notification, Subscriber, SubscriberScope
from tests.factories import (
    login,
    make_agency,
    make_incident,
    make_service,
    make_user,
    run_cli_in_parallel,
)


@pytest.fixture
def service(app):
    return make_service(make_agency("Department of Revenue", "revenue"), "Tax filing", "tax-filing")


def add_subscribers(service, count: int) -> None:
    now = clock.now()
    db.session.add_all(
        Subscriber(
            email=f"person{n}@example.com",
            everything=False,
            confirmed_at=now,
            created_at=now,
            scopes=[SubscriberScope(service_id=service.id)],
        )
        for n in range(count)
    )
    db.session.commit()


def publish_p1_update(service):
    publish_update(make_incident([service], priority=1, updates=()), status=State.INVESTIGATING,
                   body="Down.", by=None)  # fmt: skip


def statuses() -> dict[str, int]:
    return dict(
        db.session.execute(
            select(Notification.status, func.count()).group_by(Notification.status)
        ).all()
    )


def test_publishing_writes_the_notifications_in_the_same_transaction(service, monkeypatch):
    add_subscribers(service, 3)
    incident = make_incident([service], priority=1, updates=())

    def crash():
        raise RuntimeError("the process died before the commit")

    # A crash before the commit loses the update and its notifications together, never one alone.
    monkeypatch.setattr(db.session, "commit", crash)
    with pytest.raises(RuntimeError):
        publish_update(incident, status=State.INVESTIGATING, body="Down.", by=None)
    monkeypatch.undo()
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(IncidentUpdate)) == 0
    assert db.session.scalar(select(func.count()).select_from(Notification)) == 0
    publish_update(incident, status=State.INVESTIGATING, body="Down.", by=None)
    assert statuses() == {"pending": 3}


def test_each_subscriber_gets_each_update_once(service, smtp):
    add_subscribers(service, 5)
    incident = make_incident([service], priority=1, updates=())
    publish_update(incident, status=State.INVESTIGATING, body="Down.", by=None)
    assert outbox.dispatch().sent == 5
    assert outbox.dispatch().claimed == 0
    publish_update(incident, status=State.IDENTIFIED, body="Found.", by=None)
    outbox.dispatch()
    assert len(smtp.messages) == 10
    assert len({(m["To"], m["Subject"]) for m in smtp.messages}) == 10


def test_a_refused_message_is_retried_with_backoff_then_fails_with_its_error(
    service, smtp, pinned_now
):
    add_subscribers(service, 1)
    publish_p1_update(service)
    smtp.refuse_with = "451 4.7.1 Greylisted, try later"
    run = outbox.dispatch(pinned_now)
    assert (run.sent, run.retried) == (0, 1)
    row = db.session.scalars(select(Notification)).one()
    assert row.status == "pending" and row.attempts == 1 and "451" in row.last_error
    assert row.next_attempt_at == pinned_now + timedelta(seconds=30)
    assert outbox.dispatch(pinned_now + timedelta(seconds=10)).claimed == 0  # not yet

    smtp.refuse_with = "550 5.1.1 Mailbox unavailable"
    moment = pinned_now
    for _ in range(outbox.MAX_ATTEMPTS - 1):
        moment += timedelta(hours=1)
        outbox.dispatch(moment)
    db.session.refresh(row)
    assert row.status == "failed" and row.attempts == outbox.MAX_ATTEMPTS
    assert "550" in row.last_error


def test_an_smtp_server_that_is_down_loses_nothing(service, smtp, app, pinned_now):
    add_subscribers(service, 2)
    publish_p1_update(service)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    app.config["MAIL_PORT"] = closed_port
    assert outbox.dispatch(pinned_now).retried == 2
    assert "ConnectionRefusedError" in db.session.scalars(select(Notification.last_error)).first()
    app.config["MAIL_PORT"] = smtp.port
    assert outbox.dispatch(pinned_now + timedelta(minutes=1)).sent == 2


def test_a_crash_mid_batch_loses_nothing(service, smtp, pinned_now):
    add_subscribers(service, 4)
    publish_p1_update(service)
    # A dispatcher claimed the batch, sent one message, then died.
    ids = outbox.claim(pinned_now, batch_size=10)
    db.session.execute(update(Notification).where(Notification.id == ids[0]).values(status="sent"))
    db.session.commit()
    assert outbox.dispatch(pinned_now + timedelta(minutes=1)).claimed == 0  # still claimed
    assert outbox.dispatch(pinned_now + outbox.STALE_CLAIM + timedelta(seconds=1)).sent == 3
    assert statuses() == {"sent": 4}


def test_two_dispatcher_processes_share_the_work_and_send_each_message_once(
    service, smtp, migrated, tmp_path
):
    add_subscribers(service, 300)
    publish_p1_update(service)
    db.session.remove()
    outputs = run_cli_in_parallel(
        ["dispatch", "--until-empty", "--batch", "20"],
        database_url=migrated, instance=tmp_path, smtp_port=smtp.port,
    )  # fmt: skip
    recipients = [m["To"] for m in smtp.messages]
    assert len(recipients) == 300 and len(set(recipients)) == 300, outputs
    assert statuses() == {"sent": 300}


def test_the_admin_sees_failures_with_reasons_and_retries_one(client, service, smtp, pinned_now):
    add_subscribers(service, 1)
    publish_p1_update(service)
    row = db.session.scalars(select(Notification)).one()
    row.status, row.attempts, row.last_error = (
        "failed",
        8,
        "SMTPRecipientsRefused: 550 no such user",
    )
    db.session.commit()
    login(client, make_user(site_admin=True))
    page = client.get("/admin/outbox").text
    assert "failed 1" in page and "550 no such user" in page and "person0@example.com" in page
    client.post(f"/admin/outbox/{row.id}/retry")
    assert outbox.dispatch().sent == 1
    counts = client.get("/admin/subscriptions").text
    assert "1 confirmed email subscriber" in counts


def stall_after(messages: int, smtp, app, moment, later, runs: list):
    """A clock that, the first time it is read after ``messages`` went out, stalls past
    STALE_CLAIM: another dispatcher (B) runs at ``later`` meanwhile; its run lands in ``runs``."""

    def clock_that_stalls():
        if len(smtp.messages) >= messages and not runs:
            clock.set_source(lambda: later)
            with app.app_context():  # another dispatcher: its own session and connections
                runs.append(outbox.dispatch())
                db.session.remove()
        return later if runs else moment

    return clock_that_stalls


def test_a_dispatcher_that_stalls_past_the_stale_limit_skips_what_another_took_back(
    service, smtp, app, pinned_now, monkeypatch
):
    """A claims the batch and sends two messages (a chunk, recorded), then stalls past
    STALE_CLAIM; B takes the rest back and sends it. A, carrying on, must send none of those."""
    monkeypatch.setattr(outbox, "CHUNK_SIZE", 2)
    add_subscribers(service, 6)
    publish_p1_update(service)
    later = pinned_now + outbox.STALE_CLAIM + timedelta(seconds=1)
    runs = []
    clock.set_source(stall_after(2, smtp, app, pinned_now, later, runs))
    run_a = outbox.dispatch()
    clock.set_source(lambda: later)
    recipients = [m["To"] for m in smtp.messages]
    assert sorted(recipients) == sorted(f"person{n}@example.com" for n in range(6))
    assert (run_a.sent, run_a.taken_back, runs[0].sent) == (2, 4, 4)
    assert statuses() == {"sent": 6}


def test_a_dispatcher_that_stalls_mid_chunk_sends_nothing_after_its_claim_lapsed(
    service, smtp, app, pinned_now
):
    """A stall past STALE_CLAIM after two messages of a chunk of six, before the chunk's results
    were recorded: B takes the whole chunk back. A, seeing its fence is old, checks again and
    sends nothing more; the two A had sent go twice (the at-least-once edge, as after a crash)."""
    add_subscribers(service, 6)
    publish_p1_update(service)
    later = pinned_now + outbox.STALE_CLAIM + timedelta(seconds=1)
    runs = []
    clock.set_source(stall_after(2, smtp, app, pinned_now, later, runs))
    run_a = outbox.dispatch()
    clock.set_source(lambda: later)
    recipients = sorted(m["To"] for m in smtp.messages)
    assert (run_a.sent, run_a.taken_back, runs[0].sent) == (2, 4, 6)
    assert set(recipients) == {f"person{n}@example.com" for n in range(6)}  # nothing lost
    assert len(recipients) == 8  # only what A sent before the stall went twice
    assert statuses() == {"sent": 6}


@pytest.mark.parametrize("chunk_size", [1, 2, 4, 100])
def test_a_live_dispatcher_renews_its_claim_so_a_slow_batch_is_not_taken(
    service, smtp, app, pinned_now, monkeypatch, chunk_size
):
    """However the batch is cut into chunks, a dispatcher that is slow but alive (20 s between
    any two looks at the clock) keeps every row: B, running near the end, claims nothing, and
    each message goes once."""
    monkeypatch.setattr(outbox, "CHUNK_SIZE", chunk_size)
    add_subscribers(service, 6)
    publish_p1_update(service)
    moments = iter(pinned_now + n * timedelta(seconds=20) for n in range(1000))
    current = [pinned_now]
    runs = []

    def slow_clock():  # each look at the clock is 20 s later: six messages take minutes
        if len(smtp.messages) == 5 and not runs:
            runs.append(None)  # B reads this clock too
            with app.app_context():
                runs[0] = outbox.dispatch()
                db.session.remove()
        current[0] = next(moments)
        return current[0]

    clock.set_source(slow_clock)
    assert outbox.dispatch().sent == 6
    assert runs[0].claimed == 0  # every row was still claimed, and renewed
    assert sorted(m["To"] for m in smtp.messages) == sorted(
        f"person{n}@example.com" for n in range(6)
    )
    assert statuses() == {"sent": 6}


def test_a_batch_slower_than_the_renewal_interval_confirms_its_claim_again_before_sending(
    service, smtp, app, pinned_now
):
    """Looks at the clock 10 s apart: the claim is RENEW_CLAIM old after a message or two, and
    the dispatcher renews it (and learns which rows are still its own) before sending more."""
    add_subscribers(service, 6)
    publish_p1_update(service)
    moments = iter(pinned_now + n * timedelta(seconds=10) for n in range(1000))
    renewals = []
    lease_renew = outbox._Lease._renew

    def counting_renew(lease, moment):
        renewals.append(moment)
        lease_renew(lease, moment)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(outbox._Lease, "_renew", counting_renew)
        clock.set_source(lambda: next(moments))
        assert outbox.dispatch().sent == 6
    assert len(renewals) >= 3  # the batch took about a minute of its own clock
    last = db.session.scalar(select(func.max(Notification.claimed_at)))
    assert last == renewals[-1]
    assert len(smtp.messages) == 6


def test_a_dispatcher_killed_between_sending_and_recording_loses_nothing(
    service, smtp, pinned_now, monkeypatch
):
    """It died after its messages went and before their results were written: the rows are
    still claimed, come back after STALE_CLAIM and are sent again (at least once, never lost)."""
    add_subscribers(service, 3)
    publish_p1_update(service)

    def killed(*args, **kwargs):
        raise KeyboardInterrupt("killed")

    monkeypatch.setattr(outbox, "_record_results", killed)
    with pytest.raises(KeyboardInterrupt):
        outbox.dispatch(pinned_now)
    monkeypatch.undo()
    db.session.rollback()
    assert statuses() == {"sending": 3}
    assert outbox.dispatch(pinned_now + timedelta(seconds=30)).claimed == 0
    assert outbox.dispatch(pinned_now + outbox.STALE_CLAIM + timedelta(seconds=1)).sent == 3
    assert statuses() == {"sent": 3}
    recipients = [m["To"] for m in smtp.messages]
    assert sorted(set(recipients)) == [f"person{n}@example.com" for n in range(3)]


def test_a_killed_dispatchers_rows_are_sent_by_another_within_about_a_minute(
    service, smtp, pinned_now
):
    add_subscribers(service, 3)
    publish_p1_update(service)
    outbox.claim(pinned_now, batch_size=10)  # then the process was killed
    assert outbox.dispatch(pinned_now + timedelta(seconds=30)).claimed == 0
    assert outbox.dispatch(pinned_now + timedelta(seconds=61)).sent == 3
    assert statuses() == {"sent": 3}


def test_a_server_offering_pipelining_gets_each_message_once_with_one_answer_each(
    service, pipelining_smtp
):
    add_subscribers(service, 250)
    publish_p1_update(service)
    assert outbox.dispatch(batch_size=500).sent == 250
    recipients = [m["To"] for m in pipelining_smtp.messages]
    assert sorted(recipients) == sorted(f"person{n}@example.com" for n in range(250))
    assert statuses() == {"sent": 250}


def test_a_pipelined_refusal_is_recorded_on_its_own_row(service, pipelining_smtp, pinned_now):
    """The answer to a message's content is read along with the next message's commands: each
    refusal still lands on the row it belongs to, the last message of a chunk's too."""
    add_subscribers(service, 5)
    publish_p1_update(service)
    pipelining_smtp.refuse = {
        "person1@example.com": "451 4.7.1 Greylisted, try later",
        "person4@example.com": "550 5.1.1 Mailbox unavailable",
    }
    run = outbox.dispatch(pinned_now)
    assert (run.sent, run.retried) == (3, 2)
    rows = db.session.execute(
        select(Subscriber.email, Notification.status, Notification.last_error)
        .join(Notification, Notification.subscriber_id == Subscriber.id)
    ).all()  # fmt: skip
    errors = {email: (status, error) for email, status, error in rows}
    assert errors["person1@example.com"][0] == "pending" and "451" in errors["person1@example.com"][1]
    assert errors["person4@example.com"][0] == "pending" and "550" in errors["person4@example.com"][1]
    assert {errors[f"person{n}@example.com"][0] for n in (0, 2, 3)} == {"sent"}
    assert sorted(m["To"] for m in pipelining_smtp.messages) == [
        "person0@example.com", "person2@example.com", "person3@example.com"
    ]  # fmt: skip
