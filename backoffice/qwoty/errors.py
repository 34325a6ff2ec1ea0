"""One exception per way a Qwoty call can fail, so callers decide retry vs. give up by type."""


class QwotyError(Exception):
    """Base class. `status` is the HTTP status (None when no answer came back)."""

    retryable = False
    kind = "error"

    def __init__(self, message: str, *, status: int | None = None, body: str = ""):
        super().__init__(message)
        self.message = message
        self.status = status
        self.body = body


class QwotyInvalid(QwotyError):
    """400/422: the body was refused; `message` is the upstream's `error` text."""

    kind = "invalid"


class QwotyUnauthorized(QwotyError):
    """401: missing or wrong token. Pushing must pause, not retry."""

    kind = "unauthorized"


class QwotyForbidden(QwotyError):
    """403: the token lacks a permission. Pushing must pause, not retry."""

    kind = "forbidden"


class QwotyNotFound(QwotyError):
    """404: unknown id (or wrong base URL)."""

    kind = "not_found"


class QwotyRateLimited(QwotyError):
    """429: workspace rate limit; `retry_after` seconds when the upstream said so."""

    kind = "rate_limited"
    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class QwotyUnavailable(QwotyError):
    """5xx, timeout, connection refused or reset: transient, worth retrying."""

    kind = "unavailable"
    retryable = True


class QwotyTimeout(QwotyUnavailable):
    """No answer within the read timeout."""

    kind = "timeout"


class QwotyConnectionError(QwotyUnavailable):
    """Could not connect, or the connection dropped before an answer."""

    kind = "connection"


class QwotyDeadlineExceeded(QwotyTimeout):
    """The call outlasted QWOTY_CALL_DEADLINE_SECONDS, however steadily its bytes came (the read timeout is per
    socket read): past it the sweep would take the push for a dead worker's and send it twice."""


class QwotyBadResponse(QwotyError):
    """A 2xx answer that is not the documented envelope."""

    kind = "bad_response"


class QwotyAnswerTooLarge(QwotyBadResponse):
    """An answer longer than any the APIs give (MAX_ANSWER_BYTES): left unread, so it cannot fill our memory."""


class QwotyUnsafePath(QwotyError):
    """An id that would not stay one segment of the URL's path (`..`, or not a UUID where Qwoty's ids are):
    refused before any request, since the call would reach another endpoint with our credentials."""

    kind = "unsafe_path"


def error_for_status(status: int, message: str, *, body: str = "", retry_after: float | None = None) -> QwotyError:
    """The error for a non-2xx answer, by status: what every target's client raises, so the push layer
    decides retry, give up or pause the same way whichever system answered."""
    kwargs = {"status": status, "body": body}
    if status in (400, 422):
        return QwotyInvalid(message, **kwargs)
    if status == 401:
        return QwotyUnauthorized(message, **kwargs)
    if status == 403:
        return QwotyForbidden(message, **kwargs)
    if status == 404:
        return QwotyNotFound(message, **kwargs)
    if status == 429:
        return QwotyRateLimited(message, retry_after=retry_after, **kwargs)
    if status >= 500:
        return QwotyUnavailable(message, **kwargs)
    return QwotyError(message, **kwargs)
