"""Preventive actions as the policy describes them: a category, an impact and an effort (the
priority follows from those two), completion, and a check some time after completion that the
action worked.

The rows live in reports/models.py (PreventiveAction); the review's draft saves them through
``apply_rows`` (reviews.save_draft), so an action keeps its id, completion and effectiveness
across saves. The other operations here check the rule, write the change and its audit entry,
and commit.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import audit, clock
from ..extensions import db
from ..incidents.deadlines import effectiveness_check_due
from ..incidents.models import Incident
from ..policy import current_calendar, current_policy
from ..timefmt import site_zone
from ..users.models import User
from .models import ActionStatus, PostIncidentReport, PreventiveAction

if TYPE_CHECKING:
    from .reviews import ActionDraft


class Category(enum.StrEnum):
    """What kind of change the action makes (the policy's list, in its order)."""

    MONITORING = "monitoring"
    PROCESS = "process"
    TECHNOLOGY = "technology"
    TRAINING = "training"
    DOCUMENTATION = "documentation"
    ARCHITECTURE = "architecture"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class Level(enum.StrEnum):
    """An action's impact or effort."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class Priority(enum.StrEnum):
    """The order to do actions in; ``rank`` 1 comes first."""

    DO_FIRST = "do_first"
    DO_NEXT = "do_next"
    WHEN_TIME_ALLOWS = "when_time_allows"
    RECONSIDER = "reconsider"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()

    @property
    def rank(self) -> int:
        return list(Priority).index(self) + 1


_MATRIX = {
    (Level.HIGH, Level.LOW): Priority.DO_FIRST,
    (Level.HIGH, Level.MEDIUM): Priority.DO_FIRST,
    (Level.HIGH, Level.HIGH): Priority.DO_NEXT,
    (Level.MEDIUM, Level.LOW): Priority.DO_NEXT,
    (Level.MEDIUM, Level.MEDIUM): Priority.DO_NEXT,
    (Level.MEDIUM, Level.HIGH): Priority.WHEN_TIME_ALLOWS,
    (Level.LOW, Level.LOW): Priority.WHEN_TIME_ALLOWS,
    (Level.LOW, Level.MEDIUM): Priority.RECONSIDER,
    (Level.LOW, Level.HIGH): Priority.RECONSIDER,
}


def priority_of(impact: str, effort: str) -> Priority | None:
    """The priority of an action from its impact x effort, or None when either is not recorded
    (actions written before categories existed).

    ============  ================  ================  ================
    impact        low effort        medium effort     high effort
    ============  ================  ================  ================
    high          Do first          Do first          Do next
    medium        Do next           Do next           When time allows
    low           When time allows  Reconsider        Reconsider
    ============  ================  ================  ================

    High impact is worth doing first unless it is costly, when it is planned next; low impact
    is only worth cheap effort, otherwise the action should be reconsidered.
    """
    try:
        return _MATRIX[Level(impact), Level(effort)]
    except ValueError:
        return None


def priority_words(impact: str, effort: str) -> str:
    """E.g. "Do first (high impact, low effort)": the priority with why, never a colour alone."""
    priority = priority_of(impact, effort)
    if priority is None:
        return ""
    return f"{priority.label} ({impact} impact, {effort} effort)"


class Effectiveness(enum.StrEnum):
    EFFECTIVE = "effective"
    PARTLY = "partly"
    NOT_EFFECTIVE = "not_effective"

    @property
    def label(self) -> str:
        return {"effective": "Effective", "partly": "Partly effective",
                "not_effective": "Not effective"}[self.value]  # fmt: skip


CATEGORY_LABELS = {category.value: category.label for category in Category}
LEVEL_LABELS = {level.value: level.label for level in Level}
PRIORITY_LABELS = {priority.value: priority.label for priority in Priority}
EFFECTIVENESS_LABELS = {result.value: result.label for result in Effectiveness}


class ActionError(ValueError):
    """A change the rules refuse; ``field`` names the form field it belongs to."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class UnknownAction(LookupError):
    """An action id that is not one of this review's actions (another agency's, or made up)."""


def site_today() -> date:
    return clock.now().astimezone(site_zone()).date()


def check_due(action: PreventiveAction) -> date | None:
    """When the effectiveness of a completed action is checked (None while it is not done)."""
    if action.completed_on is None:
        return None
    return effectiveness_check_due(action.completed_on, current_policy(), current_calendar())


def set_status(action: PreventiveAction, status: str, today: date) -> bool:
    """Marking an action done dates its completion; reopening it clears the date and any check
    of its effectiveness (that check was about a completion that no longer stands). Returns
    whether the status changed."""
    if status == action.status:
        return False
    if status == ActionStatus.DONE.value:
        action.completed_on = today
    elif action.status == ActionStatus.DONE.value:
        action.completed_on = None
        action.effectiveness = ""
        action.effectiveness_note = ""
        action.effectiveness_checked_on = None
    action.status = status
    return True


def apply_rows(report: PostIncidentReport, drafts: list[ActionDraft], today: date) -> None:
    """The draft's rows onto the review's actions: a row with an id updates that action (its
    completion and effectiveness stay), a row without one is a new action, and an action no row
    names any more is deleted. The drafts are already checked (reviews.check_actions)."""
    existing = {action.id: action for action in report.actions}
    kept = []
    for draft in drafts:
        if draft.id is None:
            action = PreventiveAction(status=ActionStatus.OPEN.value)
        elif (action := existing.pop(draft.id, None)) is None:
            raise UnknownAction(draft.id)  # another review's, made up, or named twice
        action.description = draft.description
        action.owner = draft.owner
        action.due_on = draft.due_on
        action.category = draft.category
        action.impact = draft.impact
        action.effort = draft.effort
        set_status(action, draft.status, today)
        kept.append(action)
    report.actions = kept  # delete-orphan deletes the rows no longer named


# --- recording the check ---------------------------------------------------------------------


def _action_of(report: PostIncidentReport, action_id: int) -> PreventiveAction:
    for action in report.actions:
        if action.id == action_id:
            return action
    raise UnknownAction(action_id)


def record_effectiveness(
    report: PostIncidentReport, action_id: int, result: str, note: str, *, by: User
) -> PreventiveAction:
    """The result of the check after completion; anything short of "effective" says why."""
    action = _action_of(report, action_id)
    if action.status != ActionStatus.DONE.value or action.completed_on is None:
        raise ActionError("Only a completed action's effectiveness can be checked.", "result")
    if result not in set(Effectiveness):
        raise ActionError("Choose whether the action was effective.", "result")
    note = note.strip()
    if result != Effectiveness.EFFECTIVE and not note:
        raise ActionError(
            "Say what did not work: a note is needed when the action was not fully effective.",
            "note",
        )
    action.effectiveness = result
    action.effectiveness_note = note
    action.effectiveness_checked_on = site_today()
    audit.record(
        "action_effectiveness_recorded",
        actor=by,
        agency_id=report.incident.agency_id,
        incident=report.incident,
        action_id=action.id,
        result=result,
        reason=note,
    )
    db.session.commit()
    return action


# --- what is due -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckDue:
    action: PreventiveAction
    due_on: date


def _unchecked_done(agency_ids: list[int] | None, today: date) -> list[PreventiveAction]:
    query = (
        select(PreventiveAction)
        .join(PostIncidentReport)
        .join(Incident)
        .where(
            PreventiveAction.status == ActionStatus.DONE.value,
            PreventiveAction.completed_on.is_not(None),
            PreventiveAction.completed_on <= today,
            PreventiveAction.effectiveness == "",
        )
        .options(selectinload(PreventiveAction.report).selectinload(PostIncidentReport.incident))
    )
    if agency_ids is not None:
        query = query.where(Incident.agency_id.in_(agency_ids))
    return list(db.session.scalars(query))


def checks_due(agency_ids: list[int] | None, today: date) -> list[CheckDue]:
    """Completed actions whose effectiveness check has fallen due and is not recorded, longest
    waiting first (every agency when ``agency_ids`` is None)."""
    found = [CheckDue(action, check_due(action)) for action in _unchecked_done(agency_ids, today)]
    return sorted((c for c in found if c.due_on <= today), key=lambda c: (c.due_on, c.action.id))


def remind_checks_due(now: datetime) -> int:
    """Queue the reminder of each check that has fallen due, once per completion (the outbox key
    settles repeats and races). Returns how many messages were new."""
    from ..internal import effectiveness

    today = now.astimezone(site_zone()).date()
    queued = sum(effectiveness.remind(item.action) for item in checks_due(None, today))
    db.session.commit()
    return queued
