"""(being written)"""

from __future__ import annotations

from litestar import Controller


class ReviewPackController(Controller):
    path = "/v1/tenants/{slug:str}"
    tags = ["Audit"]
