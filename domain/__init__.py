"""Concord's pure model: aggregates, events, value types and the rules. No I/O here."""
