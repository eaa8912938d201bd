"""sms (issue 15)."""
