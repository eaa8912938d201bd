"""API keys per agency: scoped, stored hashed, revocable; each acts through a service account
(see models.py) so that every operation, permission and audit entry treats it like a person."""
