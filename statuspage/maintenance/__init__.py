"""Planned maintenance windows."""
