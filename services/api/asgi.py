"""The app factory for server workers: each worker process builds its own app, from the
environment, with `app()`.

`concord serve --workers N` uses it; any ASGI server can too, e.g.
`uvicorn --factory --workers 4 services.api.asgi:app` (the CONCORD_* variables must be
set in the server's environment: every worker reads them).
"""

from __future__ import annotations

import os

from litestar import Litestar

from infra.settings import Settings
from services.api.app import create_app


def app() -> Litestar:
    """The API for the settings in this process's environment (one per worker)."""
    return create_app(Settings.from_env(os.environ))
