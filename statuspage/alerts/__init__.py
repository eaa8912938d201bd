"""Alerts from Prometheus Alertmanager: each alert group opens (and keeps up to date) a draft
incident, never public until a lead publishes it; services that follow monitoring take their
monitoring status from the group's alerts (rules.py holds the one mapping)."""
