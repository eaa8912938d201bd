"""Accounts, per-agency roles and signing in."""
