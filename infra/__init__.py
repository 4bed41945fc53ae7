"""Adapters: settings, persistence wiring (SQLite / PostgreSQL), telemetry, key crypto."""
