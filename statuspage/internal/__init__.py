"""People inside government: who is told, when, and how they work an incident together.

models.py holds the duty roster (contacts), incident roles and the private working log; matrix.py
decides from the policy's notification matrix who is told and when; messages.py writes internal
messages into the same outbox as citizen email and renders them; acknowledgements are recorded by
signed link (ack.py)."""
