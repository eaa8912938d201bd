"""Monthly incident reports and post-incident reviews (issue 5; the figures so far)."""
