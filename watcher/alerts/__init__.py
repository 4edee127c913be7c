"""Telling people: the outbox, rendering, and the channels that send."""
