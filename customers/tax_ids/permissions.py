"""Who may review and edit tax IDs: the permissions every tax-ID view requires.

Reviewing (approve, reject, the worklist, the export) takes `customers.review_taxid` (Managers, superusers: see
backoffice/accounts/roles.py); editing a customer's tax IDs also takes the tax-ID and customer change permissions.
"""

from backoffice.accounts import permissions as p

REVIEW = p.REVIEW_TAX_IDS
ADD = (*REVIEW, *p.CHANGE_CUSTOMERS, "customers.add_taxid")
CHANGE = (*REVIEW, *p.CHANGE_CUSTOMERS, "customers.change_taxid")
DELETE = (*REVIEW, *p.CHANGE_CUSTOMERS, "customers.delete_taxid")
