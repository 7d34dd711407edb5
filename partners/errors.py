"""The one error type of the partner services."""

from __future__ import annotations


class PartnerError(Exception):
    """A partner rule was violated.

    ``code`` is a short machine string (``invalid_redirect_uri``, ``email_taken``, ...), ``message``
    a sentence a developer can act on, and ``field`` the input it is about, where there is one.
    """

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field

    def __repr__(self) -> str:
        return f"PartnerError({self.code!r}, {self.message!r}, field={self.field!r})"
