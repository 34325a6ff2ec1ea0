"""A test double of Qwoty's API, run as its own process or inside tests.

The same server also doubles the secondary targets, Prioticket (/prioticket/)
and Koywe (/koywe/). Pure standard library (plus python-stdnum for realistic tax
IDs and phonenumbers for Koywe's checks), no Django:
`python -m sandbox` starts it; tests use `SandboxServer`.
"""

from sandbox.koywe import KOYWE_MERCHANT_ID, KOYWE_ORGANIZATION_ID, KOYWE_TOKEN
from sandbox.prioticket import PRIOTICKET_CLIENT_ID, PRIOTICKET_CLIENT_SECRET
from sandbox.server import DEFAULT_PORT, DEFAULT_TOKEN, SandboxServer

__all__ = [
    "DEFAULT_PORT",
    "DEFAULT_TOKEN",
    "KOYWE_MERCHANT_ID",
    "KOYWE_ORGANIZATION_ID",
    "KOYWE_TOKEN",
    "PRIOTICKET_CLIENT_ID",
    "PRIOTICKET_CLIENT_SECRET",
    "SandboxServer",
]
