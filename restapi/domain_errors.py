"""The base of the exceptions the domain raises when it refuses an operation.

Each subclass carries the HTTP status and code the API answers with; `restapi.errors.handle_exception` maps
them once, so views call services and never translate their errors. Nothing here imports DRF: services in
every app raise these, and they are imported while Django's apps load.
"""


class DomainError(Exception):
    status_code = 409
    code = "conflict"
    field: str | None = None  # the request field the message is about, when there is one

    def extra(self) -> dict:
        """More members of the error body, for callers that act on them (e.g. the decision that refused)."""
        return {}


class NotAllowed(DomainError):
    """The person asking may not do this to this object (their role or their departments)."""

    status_code = 403
    code = "permission_denied"
