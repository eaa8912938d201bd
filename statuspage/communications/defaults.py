"""The starting jargon list and update templates (seeded by migration 0002; admins edit them)."""

JARGON = {
    "outage": "the service is not working",
    "degraded": "slow or partly working",
    "latency": "delay",
    "downtime": "time the service is not working",
    "root cause": "cause",
    "remediation": "fix",
    "mitigate": "reduce",
    "mitigation": "steps to reduce the problem",
    "rollback": "undo the change",
    "roll back": "undo the change",
    "deploy": "release",
    "deployment": "release",
    "upstream provider": "company we rely on",
    "third-party vendor": "company we rely on",
    "authentication": "signing in",
    "authenticate": "sign in",
    "credentials": "username and password",
    "intermittent": "on and off",
    "functionality": "features",
    "utilize": "use",
    "leverage": "use",
    "facilitate": "help",
    "endeavour": "try",
    "endeavor": "try",
    "commence": "start",
    "terminate": "end",
    "in order to": "to",
    "prior to": "before",
    "subsequent to": "after",
    "at this point in time": "now",
    "end user": "you",
    "impacted": "affected",
    "DNS": "the system that finds our website",
    "API": "connection between systems",
    "server": "computer",
    "database": "records system",
}

# Placeholders: $title $services $agency $detected $since $next_update $incident_url $ref.
# Sentences never make a verb agree with $services ("Tax payments is…"): one service or several,
# a singular name or a plural one, "You cannot use $services" reads right.
# Before migration 0006 the built-in texts were these; an unedited one is replaced by the new text.
PREVIOUS_BODIES = {
    "p1_initial": "$services is not working. We know about the problem and are working to fix it "
    "as fast as we can.",
    "resolution": "$services is working normally again. We are sorry for the trouble this caused. "
    "If you tried to use the service while it was down, please try again now.",
    "maintenance_notice": "$services will be unavailable while we carry out planned maintenance.",
}
TEMPLATES = [
    {
        "key": "p1_initial",
        "name": "P1 initial notification",
        "status": "investigating",
        "body": "You cannot use $services at the moment. We know about the problem and are "
        "working to fix it as fast as we can.",
        "what_affected": "$services",
        "who_affected": "Everyone trying to use $services.",
        "cause": "We do not know the cause yet.",
        "workaround": "",
        "help": "If your need is urgent, call the $agency helpline.",
    },
    {
        # Migration 0017 adds it to a database made before it (a draft from a warning alert
        # starts from it).
        "key": "partial_initial",
        "name": "Slow or partly working (first notice)",
        "status": "investigating",
        "body": "Parts of $services are slow or not working at the moment. We know about the "
        "problem and are working to fix it.",
        "what_affected": "$services",
        "who_affected": "Some people using $services.",
        "cause": "We do not know the cause yet.",
        "workaround": "If something does not work, please wait a few minutes and try again.",
        "help": "If your need is urgent, call the $agency helpline.",
    },
    {
        "key": "p2_update",
        "name": "P2 update",
        "status": "identified",
        "body": "We have found what is causing the problem with $services and are working on a "
        "fix.",
        "what_affected": "$services",
        "who_affected": "Some people using $services.",
        "cause": "",
        "workaround": "",
        "help": "Contact the $agency helpline if you need help now.",
    },
    {
        "key": "resolution",
        "name": "Resolution",
        "status": "resolved",
        "body": "You can use $services normally again. We are sorry for the trouble this "
        "caused. If you could not finish something while it was not working, please try again "
        "now.",
        "what_affected": "$services",
        "who_affected": "",
        "cause": "",
        "workaround": "",
        "help": "If you still have problems, contact the $agency helpline.",
    },
    {
        "key": "maintenance_notice",
        "name": "Maintenance notice",
        "status": "identified",
        "body": "You will not be able to use $services while we carry out planned maintenance.",
        "what_affected": "$services",
        "who_affected": "Everyone using $services during the maintenance.",
        "cause": "Planned maintenance to keep the service reliable.",
        "workaround": "Please use the service before or after the maintenance.",
        "help": "Contact the $agency helpline if you need help during the maintenance.",
    },
]


def seed(connection) -> None:
    """Insert the starting jargon list and templates (for a freshly emptied database)."""
    from sqlalchemy import insert

    from .models import JargonTerm, UpdateTemplate

    connection.execute(insert(JargonTerm), [{"term": t, "plainer": p} for t, p in JARGON.items()])
    connection.execute(insert(UpdateTemplate), TEMPLATES)
