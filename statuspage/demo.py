"""Realistic demo data: three agencies, their services, staff accounts and 90 days of incidents."""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from . import clock
from .catalog.models import Agency, Service
from .extensions import db
from .incidents.models import Impact, Incident, Source, State
from .incidents.operations import (
    NewIncident,
    assign,
    close_incident,
    create_incident,
    publish_update,
)
from .reports.models import RootCause
from .timefmt import site_zone
from .users.models import Role, User
from .users.operations import create_user

HELP_URL = "https://example.gov/help"
HISTORY_DAYS = 90
# Accounts exist well before the oldest incident they log.
ACCOUNTS_CREATED_DAYS_AGO = 120
# Every past incident is resolved at least this long before now, clear of the open one.
PAST_INCIDENTS_END_BEFORE_NOW = timedelta(hours=2)

UPDATE_CADENCE = {1: timedelta(minutes=30), 2: timedelta(hours=2), 3: timedelta(days=1)}
FIRST_UPDATE_MINUTES = {1: (2, 10), 2: (5, 20), 3: (15, 50), 4: (30, 180)}
RESOLUTION_MINUTES = {1: (40, 180), 2: (60, 480), 3: (180, 2880), 4: (240, 4320)}
UPDATE_COUNTS = {1: (4, 5), 2: (3, 5), 3: (2, 4), 4: (2, 3)}
STATUS_SEQUENCES = {
    2: (State.INVESTIGATING, State.RESOLVED),
    3: (State.INVESTIGATING, State.IDENTIFIED, State.RESOLVED),
    4: (State.INVESTIGATING, State.IDENTIFIED, State.MONITORING, State.RESOLVED),
    5: (State.INVESTIGATING, State.IDENTIFIED, State.IDENTIFIED, State.MONITORING, State.RESOLVED),
}
STARTED_BEFORE_DETECTION_SHARE = 0.4
PASSWORD_BYTES = 12


class DemoDataError(RuntimeError):
    pass


@dataclass(frozen=True)
class DemoLogin:
    email: str
    password: str
    description: str


@dataclass(frozen=True)
class ServiceSpec:
    slug: str
    name: str
    description: str
    tier: int


@dataclass(frozen=True)
class AgencySpec:
    slug: str
    name: str
    description: str
    email_key: str
    lead_name: str
    services: tuple[ServiceSpec, ...]


@dataclass(frozen=True)
class Scenario:
    """One incident's story: what broke, why, how it was fixed and what people can do meanwhile."""

    agency: str
    priority: int
    title: str
    source: Source
    affected: tuple[tuple[str, Impact], ...]
    impact_description: str
    cause: str
    fix: str
    workaround: str = ""
    advice: tuple[str, ...] = ()
    progress: str = ""
    resolved_note: str = ""
    is_security: bool = False


AGENCIES = (
    AgencySpec(
        slug="revenue",
        name="Department of Revenue",
        description="Collects state taxes, issues refunds and helps people file on time.",
        email_key="revenue",
        lead_name="Dana Whitfield",
        services=(
            ServiceSpec(
                "income-tax-filing",
                "Individual income tax filing",
                "File your state income tax return online.",
                1,
            ),
            ServiceSpec(
                "tax-payments", "Tax payments", "Pay tax you owe by card or bank transfer.", 1
            ),
            ServiceSpec("refund-status", "Refund status", "Check where your tax refund is.", 3),
            ServiceSpec("tax-forms", "Forms library", "Download tax forms and instructions.", 4),
        ),
    ),
    AgencySpec(
        slug="motor-vehicles",
        name="Department of Motor Vehicles",
        description="Driver licenses, vehicle registration and driving records.",
        email_key="dmv",
        lead_name="Marcus Bell",
        services=(
            ServiceSpec(
                "license-renewal",
                "Driver license renewal",
                "Renew your driver license or ID card online.",
                1,
            ),
            ServiceSpec(
                "vehicle-registration",
                "Vehicle registration",
                "Register a vehicle or renew a registration.",
                2,
            ),
            ServiceSpec(
                "dmv-appointments",
                "Appointment booking",
                "Book, change or cancel an appointment at a DMV office.",
                2,
            ),
            ServiceSpec(
                "driving-records",
                "Driving record requests",
                "Order a copy of your driving record.",
                3,
            ),
        ),
    ),
    AgencySpec(
        slug="health-human-services",
        name="Department of Health and Human Services",
        description="Health coverage, food and cash assistance, and vital records.",
        email_key="dhhs",
        lead_name="Priya Raman",
        services=(
            ServiceSpec(
                "benefits-application",
                "Benefits application",
                "Apply for health coverage, food and cash assistance.",
                1,
            ),
            ServiceSpec(
                "vital-records",
                "Birth and death certificates",
                "Order certified copies of birth and death certificates.",
                2,
            ),
            ServiceSpec(
                "eligibility-checker",
                "Benefits eligibility checker",
                "Find out which benefits you may be able to get.",
                3,
            ),
            ServiceSpec(
                "provider-finder",
                "Clinic and provider finder",
                "Find clinics and doctors that accept state health coverage.",
                4,
            ),
        ),
    ),
)

FIRST_AGENCY_STAFF = (
    ("manager", "Luis Ortega", Role.SERVICE_MANAGER),
    ("owner", "Helen Park", Role.SERVICE_OWNER),
)

PAST_INCIDENTS = (
    # P1 Critical
    Scenario(
        agency="revenue",
        priority=1,
        title="Online tax filing unavailable",
        source=Source.MONITORING,
        affected=(("income-tax-filing", Impact.MAJOR_OUTAGE),),
        impact_description="People filing returns online see an error after signing in "
        "and cannot start or continue a return.",
        cause="The computer that keeps returns in progress stopped responding after a "
        "planned update.",
        fix="We moved the service to a spare computer and filing is working again.",
        workaround="If your return is due today, you can still file on paper. Returns "
        "postmarked by the due date are on time.",
        advice=(
            "Returns you already submitted are safe.",
            "A return you were part-way through is saved up to the last page you completed.",
        ),
        progress="Switching to the spare computer is taking longer than we hoped because we "
        "are checking that no saved returns are lost.",
        resolved_note="If you saw an error while submitting, sign in and check **My returns**: "
        "a return shows as *Received* once we have it.",
    ),
    Scenario(
        agency="revenue",
        priority=1,
        title="Payment card processing failing",
        source=Source.EXTERNAL,
        affected=(
            ("tax-payments", Impact.MAJOR_OUTAGE),
            ("income-tax-filing", Impact.PARTIAL_OUTAGE),
        ),
        impact_description="People paying by credit or debit card see “Payment declined” "
        "even when their card is fine.",
        cause="Our card payment provider has a problem that affects several state services.",
        fix="The payment provider has fixed the problem and card payments are going through.",
        workaround="You can still pay by bank transfer (ACH) from your online account, or by "
        "check.",
        advice=(
            "You have not been charged for a declined payment.",
            "No late-payment penalty applies to payments made by the end of tomorrow.",
        ),
    ),
    Scenario(
        agency="motor-vehicles",
        priority=1,
        title="Driver license renewal and appointment booking down",
        source=Source.STAFF,
        affected=(
            ("license-renewal", Impact.MAJOR_OUTAGE),
            ("dmv-appointments", Impact.PARTIAL_OUTAGE),
        ),
        impact_description="People cannot renew a license online, and the appointment "
        "calendar does not load.",
        cause="A network change at our data center cut the connection between the website "
        "and the license system.",
        fix="We reversed the network change and both services are back.",
        workaround="If your license expires this week, any DMV office can renew it without an "
        "appointment.",
    ),
    Scenario(
        agency="health-human-services",
        priority=1,
        is_security=True,
        title="Benefits application taken offline as a precaution",
        source=Source.MONITORING,
        affected=(("benefits-application", Impact.MAJOR_OUTAGE),),
        impact_description="People cannot start or continue a benefits application online.",
        cause="Our security team found a weakness in how uploaded documents were checked, so "
        "we switched the application off while we fix it. We have no evidence that anyone's "
        "information was accessed.",
        fix="We fixed the weakness and an independent check confirmed the fix. The application "
        "is back online.",
        workaround="You can apply by phone on 1-800-555-0199 (8am to 6pm, Monday to Friday) or "
        "at any county office.",
        advice=(
            "Applications you already submitted are safe and are still being processed.",
            "Your place in line has not changed.",
        ),
    ),
    # P2 High
    Scenario(
        agency="revenue",
        priority=2,
        title="Slow page loads when uploading documents",
        source=Source.MONITORING,
        affected=(("income-tax-filing", Impact.DEGRADED_PERFORMANCE),),
        impact_description="Uploading W-2s and other documents takes several minutes, and some "
        "uploads time out.",
        cause="The virus-scanning service that checks every upload is running slowly.",
        fix="We added capacity to the scanning service and uploads are back to normal speed.",
        workaround="If an upload times out, try again later: your return is saved.",
    ),
    Scenario(
        agency="revenue",
        priority=2,
        is_security=True,
        title="Some online tax accounts temporarily locked",
        source=Source.MONITORING,
        affected=(("income-tax-filing", Impact.PARTIAL_OUTAGE),),
        impact_description="Some people cannot sign in to their online tax account and are "
        "asked to reset their password.",
        cause="We saw a large number of sign-in attempts using email addresses and passwords "
        "stolen from other websites. As a precaution we locked the accounts that were targeted.",
        fix="We have blocked the attempts. Everyone whose account was locked is getting a letter "
        "explaining how to unlock it.",
        advice=(
            "We will never ask for your password by email or phone.",
            "If you use the same password on other websites, change it.",
        ),
        resolved_note="If your account is still locked, use **Forgot password** on the sign-in "
        "page.",
    ),
    Scenario(
        agency="revenue",
        priority=2,
        title="Payment confirmations delayed",
        source=Source.STAFF,
        affected=(("tax-payments", Impact.DEGRADED_PERFORMANCE),),
        impact_description="Payments are taken as normal, but confirmation emails and account "
        "balances take up to a day to update.",
        cause="The queue that processes payment records is backed up.",
        fix="We cleared the backlog and account balances are up to date.",
        advice=(
            "Your payment counts from the day you made it.",
            "Do not pay again: you would be charged twice.",
        ),
    ),
    Scenario(
        agency="motor-vehicles",
        priority=2,
        title="Vehicle registration renewals not completing",
        source=Source.CITIZEN_REPORT,
        affected=(("vehicle-registration", Impact.PARTIAL_OUTAGE),),
        impact_description="Some people renewing a registration pay but get no confirmation "
        "page or email.",
        cause="The step that sends confirmations failed after a software update. Payments went "
        "through and registrations were renewed.",
        fix="We fixed the confirmation step and sent confirmations to everyone who missed one.",
        advice=(
            "Do not pay again: you will not be charged twice.",
            "You can check your registration status with your plate number.",
        ),
    ),
    Scenario(
        agency="motor-vehicles",
        priority=2,
        title="Appointment booking showing no available times",
        source=Source.CITIZEN_REPORT,
        affected=(("dmv-appointments", Impact.PARTIAL_OUTAGE),),
        impact_description="The booking calendar shows no free appointments at any office, "
        "although there are many.",
        cause="The overnight job that loads office schedules did not run.",
        fix="We ran the schedule job and free appointments are showing again.",
        workaround="You can book by phone on 1-800-555-0142.",
    ),
    Scenario(
        agency="health-human-services",
        priority=2,
        title="Benefits application very slow at busy times",
        source=Source.MONITORING,
        affected=(("benefits-application", Impact.DEGRADED_PERFORMANCE),),
        impact_description="Pages in the benefits application take up to a minute to load in "
        "the morning.",
        cause="A rise in applications is overloading one of our servers.",
        fix="We added servers and pages are loading normally.",
        workaround="The application saves after every page, so you can stop and come back later.",
    ),
    Scenario(
        agency="health-human-services",
        priority=2,
        title="Birth certificate orders failing at payment",
        source=Source.EXTERNAL,
        affected=(("vital-records", Impact.PARTIAL_OUTAGE),),
        impact_description="People ordering a certified birth certificate see an error when "
        "paying.",
        cause="Our payment provider changed a setting that our website did not expect.",
        fix="We updated our website to work with the provider's change.",
        workaround="You can order in person at the Vital Records office.",
    ),
    # P3 Medium
    Scenario(
        agency="revenue",
        priority=3,
        title="Refund status shows “not found” for some returns",
        source=Source.CITIZEN_REPORT,
        affected=(("refund-status", Impact.PARTIAL_OUTAGE),),
        impact_description="Some people who filed in the last week see “We can't find your "
        "return” when they check a refund.",
        cause="Returns filed since Monday have not yet been copied to the refund status system.",
        fix="The copying job has caught up and all returns are showing.",
        resolved_note="Your refund was never delayed by this problem.",
    ),
    Scenario(
        agency="revenue",
        priority=3,
        title="Some tax forms fail to download",
        source=Source.CITIZEN_REPORT,
        affected=(("tax-forms", Impact.PARTIAL_OUTAGE),),
        impact_description="Some forms in the forms library open a blank page instead of the PDF.",
        cause="A change to our website moved the files without updating the links.",
        fix="We restored the links and every form downloads again.",
        workaround="Your local library and our offices have printed copies of the most-used forms.",
    ),
    Scenario(
        agency="revenue",
        priority=3,
        title="Spanish-language pages showing in English",
        source=Source.CITIZEN_REPORT,
        affected=(("income-tax-filing", Impact.DEGRADED_PERFORMANCE),),
        impact_description="People who chose Spanish see some filing pages in English.",
        cause="The latest update did not include the Spanish translations for three pages.",
        fix="We added the missing translations.",
        workaround="Our phone line offers help in Spanish on 1-800-555-0175.",
    ),
    Scenario(
        agency="motor-vehicles",
        priority=3,
        title="Driving record requests taking longer than usual",
        source=Source.STAFF,
        affected=(("driving-records", Impact.DEGRADED_PERFORMANCE),),
        impact_description="Copies of driving records are taking up to three days instead of "
        "arriving the same day.",
        cause="The connection to the court records system is slow, so each request takes "
        "longer to check.",
        fix="The court records system is fast again and we are working through the backlog.",
    ),
    Scenario(
        agency="motor-vehicles",
        priority=3,
        title="Address changes not showing on registrations",
        source=Source.CITIZEN_REPORT,
        affected=(("vehicle-registration", Impact.DEGRADED_PERFORMANCE),),
        impact_description="People who changed their address online still see the old address "
        "on their registration.",
        cause="Address changes were saved but not copied to the registration system.",
        fix="We copied every address change made in the last two weeks.",
        resolved_note="Renewal notices will go to your new address.",
    ),
    Scenario(
        agency="motor-vehicles",
        priority=3,
        title="Appointment reminder texts not sent",
        source=Source.EXTERNAL,
        affected=(("dmv-appointments", Impact.DEGRADED_PERFORMANCE),),
        impact_description="Reminder text messages are not being sent. Your appointment itself "
        "is not affected.",
        cause="Our text message provider is having delays.",
        fix="The provider has fixed the delays and reminders are being sent.",
        workaround="You can see your appointment any time under **My appointments**.",
    ),
    Scenario(
        agency="motor-vehicles",
        priority=3,
        title="Photo upload rejected for some license renewals",
        source=Source.CITIZEN_REPORT,
        affected=(("license-renewal", Impact.DEGRADED_PERFORMANCE),),
        impact_description="Some people renewing online are told their photo does not meet the "
        "requirements when it does.",
        cause="The photo check was wrongly rejecting photos taken in portrait mode on some phones.",
        fix="We corrected the photo check.",
        workaround="Taking the photo with your phone held sideways works.",
    ),
    Scenario(
        agency="health-human-services",
        priority=3,
        title="Eligibility checker gives an error for large households",
        source=Source.CITIZEN_REPORT,
        affected=(("eligibility-checker", Impact.PARTIAL_OUTAGE),),
        impact_description="The eligibility checker shows an error for households of six or "
        "more people.",
        cause="The income limits table was missing the rows for households of six or more.",
        fix="We added the missing income limits.",
        workaround="You can still apply: the application itself works out what you can get.",
    ),
    Scenario(
        agency="health-human-services",
        priority=3,
        title="Certificate orders slow to confirm",
        source=Source.STAFF,
        affected=(("vital-records", Impact.DEGRADED_PERFORMANCE),),
        impact_description="Confirmation emails for certificate orders are arriving several "
        "hours late.",
        cause="Our email service is limiting how many messages we can send each hour.",
        fix="The email limit has been raised and the delayed confirmations have been sent.",
    ),
    Scenario(
        agency="health-human-services",
        priority=3,
        title="Document upload slow on mobile phones",
        source=Source.CITIZEN_REPORT,
        affected=(("benefits-application", Impact.DEGRADED_PERFORMANCE),),
        impact_description="Photos of documents taken in the benefits application take a long "
        "time to upload on some phones.",
        cause="Photos were being uploaded at full size instead of being made smaller first.",
        fix="Photos are now made smaller before they upload.",
        workaround="You can also upload documents from a computer, or bring them to a county "
        "office.",
    ),
    # P4 Low
    Scenario(
        agency="revenue",
        priority=4,
        title="Broken link on the forms library page",
        source=Source.CITIZEN_REPORT,
        affected=(("tax-forms", Impact.DEGRADED_PERFORMANCE),),
        impact_description="The link to last year's forms goes to a page that does not exist.",
        cause="The page for last year's forms was renamed.",
        fix="We corrected the link.",
    ),
    Scenario(
        agency="revenue",
        priority=4,
        title="Refund status page shows dates in the wrong format",
        source=Source.STAFF,
        affected=(("refund-status", Impact.DEGRADED_PERFORMANCE),),
        impact_description="Dates on the refund status page show as year-day-month.",
        cause="A settings change reversed the date format.",
        fix="We put the date format back.",
    ),
    Scenario(
        agency="motor-vehicles",
        priority=4,
        title="Typo in driving record request instructions",
        source=Source.CITIZEN_REPORT,
        affected=(("driving-records", Impact.DEGRADED_PERFORMANCE),),
        impact_description="The instructions give the wrong fee for a certified driving record.",
        cause="The fee was updated in our system but not in the instructions.",
        fix="We corrected the instructions.",
    ),
    Scenario(
        agency="motor-vehicles",
        priority=4,
        title="Outdated office hours on the registration page",
        source=Source.STAFF,
        affected=(("vehicle-registration", Impact.DEGRADED_PERFORMANCE),),
        impact_description="The registration page lists last year's Saturday opening hours.",
        cause="The page was missed when office hours changed.",
        fix="We updated the opening hours.",
    ),
    Scenario(
        agency="motor-vehicles",
        priority=4,
        title="Appointment confirmation email missing office phone number",
        source=Source.CITIZEN_REPORT,
        affected=(("dmv-appointments", Impact.DEGRADED_PERFORMANCE),),
        impact_description="Confirmation emails do not include the office's phone number.",
        cause="The email template lost the phone number during a redesign.",
        fix="We added the phone number back to the email.",
    ),
    Scenario(
        agency="health-human-services",
        priority=4,
        title="Some clinics shown in the wrong place on the map",
        source=Source.CITIZEN_REPORT,
        affected=(("provider-finder", Impact.DEGRADED_PERFORMANCE),),
        impact_description="A few clinics appear on the map a few blocks from where they are. "
        "Their addresses are right.",
        cause="The map positions for recently added clinics were worked out from the ZIP code "
        "only.",
        fix="We recalculated the map positions from the full addresses.",
    ),
    Scenario(
        agency="health-human-services",
        priority=4,
        title="Provider finder search slow for rural ZIP codes",
        source=Source.MONITORING,
        affected=(("provider-finder", Impact.DEGRADED_PERFORMANCE),),
        impact_description="Searches for some rural ZIP codes take up to 20 seconds.",
        cause="Searches with few nearby results were widening the search area one mile at a time.",
        fix="Searches now widen the area in bigger steps.",
    ),
    Scenario(
        agency="health-human-services",
        priority=4,
        title="Help text missing on the income question",
        source=Source.STAFF,
        affected=(("eligibility-checker", Impact.DEGRADED_PERFORMANCE),),
        impact_description="The “What counts as income?” help text does not open.",
        cause="The help text was not published with the latest update.",
        fix="We published the help text.",
    ),
    Scenario(
        agency="health-human-services",
        priority=4,
        title="Order receipts cut off when printed",
        source=Source.CITIZEN_REPORT,
        affected=(("vital-records", Impact.DEGRADED_PERFORMANCE),),
        impact_description="Printed order receipts are missing the order number at the bottom.",
        cause="The receipt page was too long for one printed page.",
        fix="We shortened the receipt so it prints on one page.",
    ),
)

OPEN_INCIDENT = Scenario(
    agency="revenue",
    priority=2,
    title="Some people cannot upload supporting documents",
    source=Source.CITIZEN_REPORT,
    affected=(("income-tax-filing", Impact.PARTIAL_OUTAGE),),
    impact_description="People attaching supporting documents to a return see “Upload failed”. "
    "Filing without documents works.",
    cause="A recent change to our upload checks is rejecting PDF files larger than 5 MB. "
    "Smaller files and photos upload normally.",
    fix="",
    workaround="You can still file your return now and add the documents later from **My "
    "returns**, or mail copies to the address on the form.",
    advice=(
        "Returns you file today are on time, even if documents follow later.",
        "Any documents that uploaded successfully are safe.",
    ),
)
OPEN_INCIDENT_TIMELINE_MINUTES_AGO = {
    "started": 57,
    "detected": 50,
    "created": 47,
    "investigating": 41,
    "identified": 20,
}


def database_is_empty() -> bool:
    """True when no agency exists yet, so demo data will not clash with real data."""
    return db.session.scalar(select(Agency.id).limit(1)) is None


def load_demo_data(*, seed: int = 2026) -> list[DemoLogin]:
    """Fill an empty database with demo data around now; return the new accounts, admin first."""
    if not database_is_empty():
        raise DemoDataError("demo data only loads into a database without agencies")
    rng = random.Random(seed)
    now = clock.now().replace(second=0, microsecond=0)
    with clock.pinned(now - timedelta(days=ACCOUNTS_CREATED_DAYS_AGO)):
        agencies, services = _create_catalog()
        logins, leads = _create_users(agencies)
        _create_roster(agencies)
    _create_past_incidents(rng, now, agencies, services, leads)
    _close_past_incidents(now)
    _create_open_incident(rng, now, agencies, services, leads)
    _plan_maintenance(now, services)
    _publish_reviews(now, leads)
    _review_in_progress(now, leads)
    _prepare_press_statements(now, leads)
    _receive_an_alert(now, agencies)
    _publish_monthly_reports(now)
    _link_platforms(services)
    return logins


# Reviews written for these past P1 incidents; the other P1s and P2s are left owed, so the
# dashboard shows reviews due and overdue. Each action with its category, impact and effort.
REVIEWED = {
    "Online tax filing unavailable": (RootCause.CHANGE, "Try each update on the spare computer "
                                      "first, and switch over before updating the main one.",
                                      ("process", "high", "medium")),
    "Payment card processing failing": (RootCause.THIRD_PARTY, "Add a second card payment "
                                        "provider, so a problem at one does not stop payments.",
                                        ("architecture", "high", "high")),
}  # fmt: skip


def _publish_reviews(now: datetime, leads: dict[str, User]) -> None:
    from .reports import reviews
    from .reports.reviews import ActionDraft, Contributor, ReviewContent

    admin = db.session.scalars(select(User).where(User.is_site_admin.is_(True))).first()
    for scenario in PAST_INCIDENTS:
        if scenario.title not in REVIEWED:
            continue
        incident = db.session.scalars(
            select(Incident).where(Incident.title == scenario.title)
        ).one()
        category, action, (kind, impact, effort) = REVIEWED[scenario.title]
        written_at = incident.resolved_at + timedelta(days=1)
        if written_at + timedelta(hours=2) > now:
            continue
        lead = leads[scenario.agency]
        with clock.pinned(incident.resolved_at + timedelta(hours=2)):
            report = reviews.start_review(incident, by=lead)
            _schedule_meeting(report, lead)
        with clock.pinned(written_at):
            due = (written_at + timedelta(days=45)).astimezone(site_zone()).date()
            reviews.save_draft(
                report,
                ReviewContent(
                    summary=f"{scenario.title}. {scenario.impact_description}",
                    timeline=reviews.prefilled_timeline(incident),
                    people_affected=scenario.impact_description,
                    duration=report.duration,
                    root_cause=scenario.cause,
                    root_cause_category=category.value,
                    resolution=scenario.fix,
                    lessons="We had planned for a failure of our own systems more carefully than "
                    "for this one. The plan below closes that gap.",
                    apology="We are sorry. People rely on this service, often close to a "
                    "deadline, and we let them down.",
                    actions=[
                        ActionDraft(
                            action,
                            "Platform team",
                            due,
                            category=kind,
                            impact=impact,
                            effort=effort,
                        )
                    ],
                    contributing_factors="It happened at a busy time, and the first alert went "
                    "to a shared inbox that nobody was watching.",
                    went_well="Once the team was together, the cause was found quickly and the "
                    "public was told within the policy's window.",
                    went_wrong="Nobody was paged by the first alert.",
                    five_whys=[scenario.cause, "Nothing checked for it before it reached "
                               "people.", "Our checks covered our own systems only."],
                    fishbone={"process": "The release checklist did not cover it.",
                              "technology": scenario.cause},
                    contributors=[Contributor(lead.name, "Facilitator")],
                ),
                by=lead,
            )
        with clock.pinned(written_at + timedelta(hours=1)):
            reviews.approve(report, by=admin)
            reviews.publish(report, by=admin)  # not its author: separation of duties


def _schedule_meeting(report, lead: User) -> None:
    """The review meeting the morning after resolution, facilitated by someone who did not lead
    the response (only the first agency has such a person in the demo)."""
    from .reports import meetings

    incident = report.incident
    leaders = meetings.commanders(incident)
    others = [user for user in meetings.staff(incident.agency_id) if user.id not in leaders]
    if not others:
        return
    meetings.schedule(
        report,
        meetings.MeetingPlan(
            at=_meeting_time(incident.resolved_at, meetings.deadline(incident)),
            minutes=60,
            place="Room 4.12, or https://meet.example.gov/review",
            facilitator_id=others[0].id,
            invitee_ids=meetings.suggested_invitees(incident),
        ),
        by=lead,
    )


def _meeting_time(resolved_at: datetime, due: datetime | None) -> datetime:
    """10 AM the next morning in the site's zone when that is by the policy's deadline, otherwise
    three hours after resolution on the hour: a time people would really meet."""
    local = resolved_at.astimezone(site_zone())
    morning = datetime.combine(local.date() + timedelta(days=1), time(10), site_zone())
    if due is None or morning <= due:
        return morning.astimezone(UTC)
    return (resolved_at + timedelta(hours=3)).replace(minute=0, second=0, microsecond=0)


def _review_in_progress(now: datetime, leads: dict[str, User]) -> None:
    """The first agency's latest review still owed: meeting held, a draft written, and the
    service owner's request for changes waiting for the writer (the review page shows the
    process midway)."""
    from .reports import reviews
    from .reports.reviews import ActionDraft, ReviewContent

    first = AGENCIES[0]
    agency = db.session.scalars(select(Agency).where(Agency.slug == first.slug)).one()
    owner_email = f"owner.{first.email_key}@example.gov"
    owner = db.session.scalars(select(User).where(User.email == owner_email)).one()
    owed = [
        item.incident
        for item in reviews.outstanding_reviews([agency.id], now)
        if item.report is None and item.incident.resolved_at + timedelta(days=1) < now
    ]
    if not owed:
        return
    incident = max(owed, key=lambda found: found.resolved_at)
    scenario = next(s for s in PAST_INCIDENTS if s.title == incident.title)
    lead = leads[first.slug]
    with clock.pinned(incident.resolved_at + timedelta(hours=1)):
        report = reviews.start_review(incident, by=lead)
        _schedule_meeting(report, lead)
    written_at = incident.resolved_at + timedelta(days=1)
    with clock.pinned(written_at):
        due = (written_at + timedelta(days=30)).astimezone(site_zone()).date()
        reviews.save_draft(
            report,
            ReviewContent(
                summary=f"{scenario.title}. {scenario.impact_description}",
                timeline=reviews.prefilled_timeline(incident),
                people_affected=scenario.impact_description,
                people_affected_count=1800,
                duration=report.duration,
                root_cause=scenario.cause,
                root_cause_category=RootCause.UNKNOWN.value,
                resolution=scenario.fix,
                lessons="We will write these after the meeting.",
                apology="We are sorry for the trouble this caused.",
                contributing_factors="Still being worked out.",
                went_well="People were told quickly.",
                went_wrong="It took long to find the cause.",
                five_whys=[scenario.cause],
                actions=[ActionDraft("Add an alert for this failure", "Platform team", due,
                                     category="monitoring", impact="high", effort="low")],
            ),
            by=lead,
        )
    with clock.pinned(written_at + timedelta(hours=3)):
        reviews.request_changes(
            report,
            "Please choose a root cause category other than unknown now that the meeting found "
            "the cause, and finish the lessons before I approve.",
            by=owner,
        )


# The past P1 whose media statement was released; the open incident's waits for approval.
PRESS_RELEASED = "Online tax filing unavailable"


def _prepare_press_statements(now: datetime, leads: dict[str, User]) -> None:
    """A released media statement on /press, and one waiting for approval in the admin."""
    from .press import operations as press
    from .press.templates import GAP

    admin = db.session.scalars(select(User).where(User.is_site_admin.is_(True))).first()

    def content(statement) -> press.StatementContent:
        said = "If you were affected, you do not need to do anything."
        return press.StatementContent(
            statement.headline, GAP.sub(said, statement.body),
            GAP.sub("See the statement.", statement.talking_points.text),
        )

    past = db.session.scalars(select(Incident).where(Incident.title == PRESS_RELEASED)).first()
    if past is not None and past.resolved_at + timedelta(hours=2) < now:
        with clock.pinned(past.resolved_at + timedelta(hours=1)):
            statement = press.start_statement(past, by=leads["revenue"])
            press.submit(statement, content(statement), by=leads["revenue"])
            press.approve(statement, by=admin)  # not its author: separation of duties
    current = db.session.scalars(
        select(Incident).where(Incident.title == OPEN_INCIDENT.title)
    ).first()
    if current is not None:
        statement = press.start_statement(current, by=leads[OPEN_INCIDENT.agency])
        press.submit(statement, content(statement), by=leads[OPEN_INCIDENT.agency])


def _receive_an_alert(now: datetime, agencies: dict[str, Agency]) -> None:
    """Prometheus Alertmanager's key at the DMV, and an alert it sent ten minutes ago: a draft
    incident nobody has published yet, waiting for the lead on the dashboard."""
    from .alerts import operations as alerts
    from .alerts import payload
    from .api_keys.operations import create_key

    agency = agencies["motor-vehicles"]
    key, _shown_once = create_key(agency, "Prometheus Alertmanager", {"incidents"}, by=None)
    started = (now - timedelta(minutes=12)).strftime("%Y-%m-%dT%H:%M:%SZ")
    labels = {"agency": agency.slug, "alertname": "AppointmentSlotsSlow",
              "service": "dmv-appointments", "severity": "warning"}  # fmt: skip
    body = {
        "version": "4", "receiver": "status-page", "status": "firing",
        "groupKey": '{}:{alertname="AppointmentSlotsSlow"}', "truncatedAlerts": 0,
        "groupLabels": {"alertname": "AppointmentSlotsSlow"}, "commonLabels": labels,
        "commonAnnotations": {}, "externalURL": "http://alertmanager.dmv.example:9093",
        "alerts": [{
            "status": "firing", "labels": labels, "startsAt": started,
            "endsAt": "0001-01-01T00:00:00Z", "fingerprint": "5c1d0a7e9b3f2d41",
            "annotations": {"summary": "Searching for appointment slots takes over 10 seconds"},
            "generatorURL": "http://prometheus.dmv.example:9090/graph",
        }],
    }  # fmt: skip
    with clock.pinned(now - timedelta(minutes=10)):
        alerts.receive(payload.read(body), agency=agency, by=key.user, raw=body)


def _publish_monthly_reports(now: datetime) -> None:
    """The two months before this one: the earlier published for everyone, the last one
    published for the site and the first agency and left a draft for the others."""
    from .reports import publishing
    from .reports.monthly import month_of, previous_month

    admin = db.session.scalars(select(User).where(User.is_site_admin.is_(True))).first()
    last = previous_month(month_of(now, site_zone()))
    agencies = list(db.session.scalars(select(Agency).order_by(Agency.display_order)))
    for month in (previous_month(last), last):
        for agency in [None, *agencies]:
            draft = publishing.prepare_draft(month, agency, now=now)
            if month != last or agency is None or agency is agencies[0]:
                publishing.publish(draft, "", by=admin, now=now)


def _plan_maintenance(now: datetime, services: dict[str, Service]) -> None:
    """An evening window three days ahead, so / and /maintenance show an announcement."""
    from .maintenance.operations import save_window

    evening = (now.astimezone(site_zone()) + timedelta(days=3)).replace(hour=21, minute=0)
    save_window(
        None,
        title="Vehicle registration database upgrade",
        description="Online vehicle registration will be unavailable while we upgrade its "
        "database. You can still renew a registration at any office the next day.",
        starts_at=evening.astimezone(UTC),
        ends_at=(evening + timedelta(hours=2)).astimezone(UTC),
        services=[services["vehicle-registration"]],
        by=None,
    )


def _close_past_incidents(now: datetime) -> None:
    """Past incidents were closed a few hours after resolution, as the policy asks."""
    approver = db.session.scalars(select(User).where(User.is_site_admin.is_(True))).first()
    resolved = db.session.scalars(select(Incident).where(Incident.state == State.RESOLVED.value))
    for incident in list(resolved):
        closed_at = incident.resolved_at + timedelta(hours=3)
        if closed_at < now:
            with clock.pinned(closed_at):
                close_incident(incident, by=approver)


def _create_catalog() -> tuple[dict[str, Agency], dict[str, Service]]:
    agencies: dict[str, Agency] = {}
    services: dict[str, Service] = {}
    for agency_order, agency_spec in enumerate(AGENCIES, start=1):
        agency = Agency(
            slug=agency_spec.slug,
            name=agency_spec.name,
            description=agency_spec.description,
            display_order=agency_order,
        )
        for service_order, service_spec in enumerate(agency_spec.services, start=1):
            services[service_spec.slug] = Service(
                agency=agency,
                slug=service_spec.slug,
                name=service_spec.name,
                description=service_spec.description,
                tier=service_spec.tier,
                display_order=service_order,
            )
        agencies[agency_spec.slug] = agency
        db.session.add(agency)
    db.session.commit()
    return agencies, services


# Services that take payments through the state's payment platform (Tax payments): a failure
# there is a shared incident across agencies.
PAYMENT_PLATFORM = "tax-payments"
PAYMENT_DEPENDENTS = ("vehicle-registration", "vital-records")


def _create_roster(agencies: dict[str, Agency]) -> None:
    """The people the notification matrix names (example.gov addresses)."""
    from .internal.models import Contact

    admin = db.session.scalars(select(User).where(User.is_site_admin.is_(True))).first()
    now = clock.now()
    rows = [Contact(agency_id=None, position="cdo", name="Chief Digital Officer",
                    email="cdo@example.gov", phone="555-0100", user_id=admin.id, created_at=now),
            Contact(agency_id=None, position="ciso", name="State CISO", email="ciso@example.gov",
                    phone="555-0101", created_at=now)]  # fmt: skip
    for spec in AGENCIES:
        agency, key = agencies[spec.slug], spec.email_key
        rows += [
            Contact(agency_id=agency.id, position=position, name=f"{label}, {agency.name}",
                    email=f"{position.replace('_', '-')}{'-backup' if backup else ''}.{key}"
                    "@example.gov", phone=phone,
                    is_backup=backup, created_at=now)
            for position, label, phone, backup in (
                ("agency_cio", "CIO", "", False), ("legal", "Legal counsel", "", False),
                ("public_relations", "Press office", "", False),
                ("on_call", "On-call engineer", "555-0110", False),
                ("on_call", "Backup on-call engineer", "555-0111", True),
            )
        ]  # fmt: skip
    db.session.add_all(rows)
    db.session.commit()


def _link_platforms(services: dict[str, Service]) -> None:
    """After the history (which predates the link): a payments failure now affects these too."""
    from .catalog.dependencies import add_dependency

    for slug in PAYMENT_DEPENDENTS:
        add_dependency(services[slug], services[PAYMENT_PLATFORM])


def _create_users(agencies: dict[str, Agency]) -> tuple[list[DemoLogin], dict[str, User]]:
    logins: list[DemoLogin] = []

    def add(email: str, name: str, description: str, **options) -> User:
        password = secrets.token_urlsafe(PASSWORD_BYTES)
        user = create_user(email, name, password, **options)
        logins.append(DemoLogin(email=user.email, password=password, description=description))
        return user

    add("admin@example.gov", "Site Administrator", "site administrator", site_admin=True)
    leads: dict[str, User] = {}
    for spec in AGENCIES:
        agency = agencies[spec.slug]
        leads[spec.slug] = add(
            f"lead.{spec.email_key}@example.gov",
            spec.lead_name,
            f"{Role.COMMUNICATIONS_LEAD.label.lower()}, {agency.name}",
            roles={agency: Role.COMMUNICATIONS_LEAD},
        )
    first = AGENCIES[0]
    first_agency = agencies[first.slug]
    for email_prefix, name, role in FIRST_AGENCY_STAFF:
        add(
            f"{email_prefix}.{first.email_key}@example.gov",
            name,
            f"{role.label.lower()}, {first_agency.name}",
            roles={first_agency: role},
        )
    return logins, leads


def _create_past_incidents(
    rng: random.Random,
    now: datetime,
    agencies: dict[str, Agency],
    services: dict[str, Service],
    leads: dict[str, User],
) -> None:
    zone = site_zone()
    latest_end = now - PAST_INCIDENTS_END_BEFORE_NOW
    p3_indexes = [i for i, scenario in enumerate(PAST_INCIDENTS) if scenario.priority == 3]
    made_public = set(rng.sample(p3_indexes, len(p3_indexes) // 2))
    days_ago = rng.sample(range(2, HISTORY_DAYS), len(PAST_INCIDENTS))

    planned = []
    for index, (scenario, days) in enumerate(zip(PAST_INCIDENTS, days_ago)):
        detected_at = _local_moment(rng, now - timedelta(days=days), zone)
        planned.append((detected_at, index, scenario))
    planned.sort(key=lambda plan: plan[0])

    for detected_at, index, scenario in planned:
        started_at = None
        if rng.random() < STARTED_BEFORE_DETECTION_SHARE:
            started_at = detected_at - timedelta(minutes=rng.randint(3, 15))
        created_at, updates = _timeline(rng, scenario.priority, detected_at, latest_end)
        _record_incident(
            rng,
            scenario,
            agencies,
            services,
            leads[scenario.agency],
            detected_at=detected_at,
            started_at=started_at,
            created_at=created_at,
            updates=updates,
            made_public=index in made_public,
        )


def _create_open_incident(
    rng: random.Random,
    now: datetime,
    agencies: dict[str, Agency],
    services: dict[str, Service],
    leads: dict[str, User],
) -> None:
    ago = {
        moment: now - timedelta(minutes=minutes)
        for moment, minutes in OPEN_INCIDENT_TIMELINE_MINUTES_AGO.items()
    }
    _record_incident(
        rng,
        OPEN_INCIDENT,
        agencies,
        services,
        leads[OPEN_INCIDENT.agency],
        detected_at=ago["detected"],
        started_at=ago["started"],
        created_at=ago["created"],
        updates=[
            (State.INVESTIGATING, ago["investigating"]),
            (State.IDENTIFIED, ago["identified"]),
        ],
        made_public=False,
    )


def _local_moment(rng: random.Random, day: datetime, zone: ZoneInfo) -> datetime:
    """A moment on that day during the site's local waking hours, as UTC."""
    local_day = day.astimezone(zone).date()
    local_time = time(hour=rng.randint(7, 21), minute=rng.randint(0, 59))
    return datetime.combine(local_day, local_time, tzinfo=zone).astimezone(UTC)


def _timeline(
    rng: random.Random, priority: int, detected_at: datetime, latest_end: datetime
) -> tuple[datetime, list[tuple[State, datetime]]]:
    """When the incident is logged and when each update is published, ending resolved."""
    created_at = detected_at + timedelta(minutes=rng.randint(1, 4))
    first_update_at = created_at + timedelta(minutes=rng.randint(*FIRST_UPDATE_MINUTES[priority]))
    statuses = STATUS_SEQUENCES[rng.randint(*UPDATE_COUNTS[priority])]
    resolved_at = detected_at + timedelta(minutes=rng.randint(*RESOLUTION_MINUTES[priority]))
    resolved_at = max(
        min(resolved_at, latest_end), first_update_at + timedelta(minutes=10 * len(statuses))
    )
    step = (resolved_at - first_update_at) / (len(statuses) - 1)
    moments = [first_update_at]
    for position in range(1, len(statuses) - 1):
        jittered = first_update_at + step * (position + rng.uniform(-0.2, 0.2))
        moments.append(jittered.replace(second=0, microsecond=0))
    moments.append(resolved_at)
    return created_at, list(zip(statuses, moments))


def _record_incident(
    rng: random.Random,
    scenario: Scenario,
    agencies: dict[str, Agency],
    services: dict[str, Service],
    lead: User,
    *,
    detected_at: datetime,
    started_at: datetime | None,
    created_at: datetime,
    updates: list[tuple[State, datetime]],
    made_public: bool,
) -> Incident:
    affected = {services[slug]: impact for slug, impact in scenario.affected}
    with clock.pinned(created_at):
        incident = create_incident(
            NewIncident(
                agency=agencies[scenario.agency],
                title=scenario.title,
                priority=scenario.priority,
                source=scenario.source,
                detected_at=detected_at,
                affected=affected,
                is_security=scenario.is_security,
                made_public=made_public,
                impact_description=scenario.impact_description,
                started_at=started_at,
            ),
            by=lead,
        )
    with clock.pinned(created_at + timedelta(minutes=rng.randint(1, 6))):
        assign(incident, lead, by=lead)  # the lead takes it: MTTA to assignment has data
    service_names = _join_names([service.name for service in affected])
    told: set[State] = set()
    for status, published_at in updates:
        cadence = UPDATE_CADENCE.get(scenario.priority)
        next_update_at = published_at + cadence if cadence and status.is_open else None
        with clock.pinned(published_at):
            publish_update(
                incident,
                status=status,
                body=_update_body(rng, scenario, status, service_names, told),
                workaround=scenario.workaround if status.is_open else "",
                next_update_at=next_update_at,
                by=lead,
            )
        told.add(status)
    return incident


def _update_body(
    rng: random.Random, scenario: Scenario, status: State, service_names: str, told: set[State]
) -> str:
    """Plain-language Markdown telling the public what is happening and what it means for them."""
    if status is State.INVESTIGATING:
        opening = rng.choice(
            (
                f"We're investigating a problem with **{service_names}**.",
                f"We know about a problem with **{service_names}** and are looking into it.",
                f"Something is wrong with **{service_names}** and we're working out why.",
            )
        )
        body = f"{opening} {scenario.impact_description}"
        if scenario.advice:
            body += "\n\nWhat this means for you:\n\n" + "\n".join(
                f"- {line}" for line in scenario.advice
            )
        return f"{body}\n\nWe're sorry for the trouble. We'll post more here as soon as we know."
    if status is State.IDENTIFIED and status in told:
        return "We're still working on the fix. " + (
            scenario.progress
            or "It is taking longer than we hoped because we are testing it carefully first."
        )
    if status is State.IDENTIFIED:
        return f"We've found the cause. {scenario.cause} We're working on a fix."
    if status is State.MONITORING:
        return f"{scenario.fix} We're keeping a close watch to make sure it stays that way."
    verb = "are" if " and " in service_names else "is"
    working_again = f"**{service_names}** {verb} working normally again."
    if State.MONITORING in told:
        body = f"This is fixed: {working_again}"
    else:
        body = f"{scenario.fix} {working_again}"
    if scenario.resolved_note:
        body += f" {scenario.resolved_note}"
    if scenario.priority <= 2:
        body += f"\n\nIf you still have problems, [get help]({HELP_URL})."
    elif scenario.source is Source.CITIZEN_REPORT:
        body += " Thank you to everyone who told us about it."
    return body


def _join_names(names: list[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]
