"""Create (or reset) one demo user per staff role, for `make run` only.

Refuses to run with DEBUG off: demo logins must never exist in production.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError

from backoffice.accounts import roles

DEMO_USERS = [
    # username, password, group (None = superuser)
    ("sales", "sales-demo-2026", roles.SALES_OPS),
    ("manager", "manager-demo-2026", roles.MANAGERS),
    ("support", "support-demo-2026", roles.SUPPORT),
    ("admin", "admin-demo-2026", None),
]


class Command(BaseCommand):
    help = __doc__

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("demo_users only runs with DEBUG on; production has no demo logins.")
        User = get_user_model()
        for username, password, group_name in DEMO_USERS:
            user, _ = User.objects.get_or_create(username=username)
            user.first_name = username.capitalize()
            user.last_name = "Demo"
            user.is_staff = group_name is None
            user.is_superuser = group_name is None
            user.set_password(password)
            user.save()
            user.groups.set([Group.objects.get(name=group_name)] if group_name else [])
            role = group_name or "superuser"
            self.stdout.write(f"  {role:<10} {username:<8} / {password}")
