"""Subscribers, webhooks and the outbox that delivers to them."""
