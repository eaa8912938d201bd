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
