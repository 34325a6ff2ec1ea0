# The "backoffice" app's models module: the change history's model lives in backoffice/audit/ and keeps this
# app's label, so its table and migrations (backoffice/migrations/) do not change.
from backoffice.audit.models import Change

__all__ = ["Change"]
