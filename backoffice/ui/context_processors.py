"""Layout context: the menu and the push-health banner, computed only if the layout renders them."""

from django.utils.functional import SimpleLazyObject

from backoffice.ui.navigation import main_menu
from backoffice.ui.selectors import push_health


def layout(request) -> dict:
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    # Lazy: HTMX fragments never render the layout, so they never pay for these queries.
    return {
        "main_menu": SimpleLazyObject(lambda: main_menu(request.user, request.path)),
        "push_health": SimpleLazyObject(push_health),
    }
