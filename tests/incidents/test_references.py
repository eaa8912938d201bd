import threading
from datetime import UTC, datetime

from sqlalchemy import select

from statuspage.extensions import db
from statuspage.incidents.models import Incident
from statuspage.incidents.references import format_reference, is_reference
from tests.factories import make_agency, make_incident, make_service
from tests.conftest import make_app


def test_reference_format_uses_the_utc_day_of_detection():
    # 11:30 PM EST on 23 Nov is already 24 Nov in UTC.
    late_evening = datetime(2026, 11, 24, 4, 30, tzinfo=UTC)
    assert format_reference(late_evening, 7) == "INC-2026-1124-007"
    assert is_reference("INC-2026-1124-007")
    assert not is_reference("INC-2026-1124-7") and not is_reference("../etc")


def test_references_count_up_per_day_and_restart_the_next_day(app, pinned_now):
    service = make_service(make_agency())
    day_one = datetime(2026, 11, 20, 10, tzinfo=UTC)
    day_two = datetime(2026, 11, 21, 10, tzinfo=UTC)
    refs = [make_incident([service], detected_at=day_one).ref for _ in range(3)]
    refs.append(make_incident([service], detected_at=day_two).ref)
    assert refs == [
        "INC-2026-1120-001",
        "INC-2026-1120-002",
        "INC-2026-1120-003",
        "INC-2026-1121-001",
    ]


def test_incidents_created_at_the_same_moment_get_distinct_references(app, migrated, pinned_now):
    service = make_service(make_agency())
    service_id = service.id
    detected = datetime(2026, 11, 22, 9, tzinfo=UTC)
    workers = 8
    barrier = threading.Barrier(workers)
    refs: list[str] = []
    errors: list[BaseException] = []

    # Apps are built here, not in the threads: CPython 3.11 can fail ("AST constructor recursion
    # depth mismatch") when threads generate code at the same moment.
    worker_apps = [make_app(migrated) for _ in range(workers)]
    make_incident(
        [service], detected_at=datetime(2026, 11, 21, 9, tzinfo=UTC), updates=()
    )  # warm-up
    for worker_app in worker_apps:
        with worker_app.app_context():
            db.session.get(type(service), service_id)
            db.session.remove()

    def create_one(worker_app):
        with worker_app.app_context():
            try:
                from statuspage.catalog.models import Service

                mine = db.session.get(Service, service_id)
                barrier.wait(timeout=30)
                refs.append(make_incident([mine], detected_at=detected, updates=()).ref)
            except BaseException as error:  # reported below, in the main thread
                errors.append(error)
            finally:
                db.session.remove()
                db.engine.dispose()

    threads = [
        threading.Thread(target=create_one, args=(worker_app,)) for worker_app in worker_apps
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    assert sorted(refs) == [f"INC-2026-1122-{n:03d}" for n in range(1, workers + 1)]
    stored = db.session.scalars(
        select(Incident.ref).where(Incident.ref.startswith("INC-2026-1122-")).order_by(Incident.ref)
    ).all()
    assert stored == sorted(refs)


def test_a_hundred_incidents_logged_at_once_all_succeed_with_consecutive_references(
    app, migrated, pinned_now
):
    from concurrent.futures import ThreadPoolExecutor

    from statuspage.catalog.models import Service

    service_id = make_service(make_agency()).id
    detected = datetime(2026, 11, 22, 9, tzinfo=UTC)
    make_incident(
        [db.session.get(Service, service_id)],
        detected_at=datetime(2026, 11, 21, 9, tzinfo=UTC), updates=(),
    )  # warm-up (code generated once, not by every thread at the same moment)
    db.session.remove()
    workers = 100
    # One app, its own pool: 20 connections at once (PostgreSQL allows 100 in all).
    shared = make_app(migrated, SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 20, "max_overflow": 0})
    barrier = threading.Barrier(workers)

    def create_one(_):
        with shared.app_context():
            try:
                barrier.wait(timeout=60)  # holding no connection: the pool has 20 for 100
                mine = db.session.get(Service, service_id)
                return make_incident([mine], detected_at=detected, updates=()).ref
            finally:
                db.session.remove()

    try:
        with ThreadPoolExecutor(workers) as pool:
            refs = list(pool.map(create_one, range(workers)))
    finally:
        with shared.app_context():
            db.engine.dispose()

    assert sorted(refs) == [f"INC-2026-1122-{n:03d}" for n in range(1, workers + 1)]
    stored = db.session.scalars(
        select(Incident.ref).where(Incident.ref.startswith("INC-2026-1122-"))
    ).all()
    assert sorted(stored) == sorted(refs)


def test_the_migration_carries_on_from_the_references_already_given_out(app, pinned_now):
    from flask_migrate import downgrade, upgrade

    service = make_service(make_agency())
    detected = datetime(2026, 11, 20, 10, tzinfo=UTC)
    for _ in range(3):
        make_incident([service], detected_at=detected, updates=())
    service_id = service.id
    db.session.remove()
    directory = app.extensions["migrate"].directory
    downgrade(directory=directory, revision="0007")
    upgrade(directory=directory)
    from statuspage.catalog.models import Service

    again = db.session.get(Service, service_id)
    assert make_incident([again], detected_at=detected, updates=()).ref == "INC-2026-1120-004"
