"""One exception per way a call to an upstream (Qwoty, Prioticket, Koywe) can fail: callers decide retry, pause
or give up by type."""


class UpstreamError(Exception):
    """Base class. `status` is the HTTP status (None when no answer came back)."""

    retryable = False
    kind = "error"

    def __init__(self, message: str, *, status: int | None = None, body: str = ""):
        super().__init__(message)
        self.message = message
        self.status = status
        self.body = body


class UpstreamInvalid(UpstreamError):
    """400/422: the body was refused; `message` is the upstream's `error` text."""

    kind = "invalid"


class UpstreamUnauthorized(UpstreamError):
    """401: missing or wrong token. Pushing must pause, not retry."""

    kind = "unauthorized"


class UpstreamForbidden(UpstreamError):
    """403: the token lacks a permission. Pushing must pause, not retry."""

    kind = "forbidden"


class UpstreamNotFound(UpstreamError):
    """404: unknown id (or wrong base URL)."""

    kind = "not_found"


class UpstreamRateLimited(UpstreamError):
    """429: workspace rate limit; `retry_after` seconds when the upstream said so."""

    kind = "rate_limited"
    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class UpstreamUnavailable(UpstreamError):
    """5xx, timeout, connection refused or reset: transient, worth retrying."""

    kind = "unavailable"
    retryable = True


class UpstreamTimeout(UpstreamUnavailable):
    """No answer within the read timeout."""

    kind = "timeout"


class UpstreamConnectionError(UpstreamUnavailable):
    """Could not connect, or the connection dropped before an answer."""

    kind = "connection"


class UpstreamDeadlineExceeded(UpstreamTimeout):
    """The call outlasted QWOTY_CALL_DEADLINE_SECONDS, however steadily its bytes came (the read timeout is per
    socket read): past it the sweep would take the push for a dead worker's and send it twice."""


class UpstreamBadResponse(UpstreamError):
    """A 2xx answer that is not the documented envelope."""

    kind = "bad_response"


class UpstreamAnswerTooLarge(UpstreamBadResponse):
    """An answer longer than any the APIs give (MAX_ANSWER_BYTES): left unread, so it cannot fill our memory."""


class UnsafePath(UpstreamError):
    """An id that would not stay one segment of the URL's path (`..`, or not a UUID where Qwoty's ids are):
    refused before any request, since the call would reach another endpoint with our credentials."""

    kind = "unsafe_path"


def error_for_status(status: int, message: str, *, body: str = "", retry_after: float | None = None) -> UpstreamError:
    """The error for a non-2xx answer, by status: what every target's client raises, so the push layer
    decides retry, give up or pause the same way whichever system answered."""
    kwargs = {"status": status, "body": body}
    if status in (400, 422):
        return UpstreamInvalid(message, **kwargs)
    if status == 401:
        return UpstreamUnauthorized(message, **kwargs)
    if status == 403:
        return UpstreamForbidden(message, **kwargs)
    if status == 404:
        return UpstreamNotFound(message, **kwargs)
    if status == 429:
        return UpstreamRateLimited(message, retry_after=retry_after, **kwargs)
    if status >= 500:
        return UpstreamUnavailable(message, **kwargs)
    return UpstreamError(message, **kwargs)


# What a failed call's stored attempt says when the target failed as one that is down fails (`retryable`).
DOWN_KINDS = frozenset(
    cls.kind for cls in (UpstreamRateLimited, UpstreamUnavailable, UpstreamTimeout, UpstreamConnectionError)
)
