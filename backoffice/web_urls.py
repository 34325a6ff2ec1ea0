"""URLs staff may open: http and https only. Any other scheme in an href (`javascript:`, `data:`) runs in our
pages, so an upstream URL is checked on the way in (pull, answers, forms) and again where it becomes a link."""

import re

from django import forms
from django.core.validators import URLValidator

WEB_SCHEMES = ("http", "https")

# Written out as is, from its first character: a browser would also read "java\tscript:" or " javascript:"
# as javascript, so nothing is stripped or guessed first.
_WEB_URL = re.compile(r"https?://[^\s/?#]", re.IGNORECASE)


def is_web_url(value) -> bool:
    """Whether `value` is an http or https URL with a host, safe as a link's href."""
    return isinstance(value, str) and _WEB_URL.match(value) is not None


class WebURLValidator(URLValidator):
    """Django's URL check, with http and https only (it also takes ftp and ftps)."""

    schemes = list(WEB_SCHEMES)


class WebURLField(forms.URLField):
    """A form's URL that will be shown as a link: http or https only."""

    default_validators = [WebURLValidator()]
