"""Media statements for high-visibility incidents, with internal talking points (issue 15)."""
