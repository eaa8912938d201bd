"""social (issue 15)."""
