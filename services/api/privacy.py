"""(being written)"""

from __future__ import annotations

from litestar import Controller


class PrivacyController(Controller):
    path = "/v1/tenants/{slug:str}"
    tags = ["Privacy"]
