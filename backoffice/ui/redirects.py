"""Back to where a form was posted from: its `next` field, when it points at this site."""

from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme


def redirect_back(request, *default):
    """Redirect to the POSTed `next` when it is one of our pages, else to `default` (`redirect()`'s arguments)."""
    target = request.POST.get("next", "")
    return redirect(target) if is_our_page(request, target) else redirect(*default)


def is_our_page(request, target: str) -> bool:
    """Whether `target` is a page of this site (over HTTPS when `request` came over HTTPS)."""
    return url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
