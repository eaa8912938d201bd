"""Agencies and the services they run."""
