"""Errors of the use-case layer that are not business rules: missing things, bad access."""

from __future__ import annotations


class NotFound(Exception):
    """The thing asked for does not exist, or the caller may not know that it does."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Forbidden(Exception):
    """The caller's key is valid but its role does not allow this."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Unauthenticated(Exception):
    """No valid key was presented."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidRequest(Exception):
    """The request is well-formed but its fields do not fit together (e.g. neither of two
    alternatives given)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class RateLimited(Exception):
    """A key, or its alliance, made more requests than its limit allows just now."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after
