"""The application layer and the processes users run: use cases, API, worker, CLI."""
