"""Notifications: the outbox of events that school changes write, and (issue 7) their delivery."""
