from statuspage.catalog.status import ServiceStatus, overall_banner, statuses_from_impacts
from statuspage.incidents.models import Impact


def test_each_status_has_a_word_an_icon_and_a_colour_from_the_policy():
    expected = {
        ServiceStatus.OPERATIONAL: ("Operational", "green"),
        ServiceStatus.DEGRADED_PERFORMANCE: ("Degraded performance", "yellow"),
        ServiceStatus.PARTIAL_OUTAGE: ("Partial outage", "yellow"),
        ServiceStatus.MAJOR_OUTAGE: ("Major outage", "red"),
        ServiceStatus.UNDER_MAINTENANCE: ("Under maintenance", "blue"),
    }
    for status, (label, colour) in expected.items():
        assert (status.label, status.colour) == (label, colour)
    # Colour is never the only signal: statuses sharing a colour still differ in icon shape.
    assert len({status.icon for status in ServiceStatus}) == len(ServiceStatus)


def test_the_worst_impact_on_a_service_wins():
    statuses = statuses_from_impacts(
        [(1, Impact.DEGRADED_PERFORMANCE), (1, Impact.MAJOR_OUTAGE), (2, Impact.PARTIAL_OUTAGE)]
    )
    assert statuses == {1: ServiceStatus.MAJOR_OUTAGE, 2: ServiceStatus.PARTIAL_OUTAGE}


def test_banner_says_all_is_well_or_what_is_wrong():
    assert overall_banner([ServiceStatus.OPERATIONAL] * 3).headline == (
        "All services are operating normally"
    )
    major = overall_banner([ServiceStatus.OPERATIONAL, ServiceStatus.MAJOR_OUTAGE])
    assert (major.status, major.headline) == (
        ServiceStatus.MAJOR_OUTAGE,
        "Major outage: 1 service is down",
    )
    partial = overall_banner([ServiceStatus.PARTIAL_OUTAGE, ServiceStatus.DEGRADED_PERFORMANCE])
    assert partial.headline == "2 services are having problems"
    assert overall_banner([]).headline == "All services are operating normally"
