"""Incidents: their record, references, updates and visibility."""
