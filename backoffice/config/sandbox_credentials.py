"""The bundled sandbox's credentials: public, the development defaults, and refused in production.

They live outside the sandbox package so that settings can name them without importing the sandbox:
production processes never load the test double. Keys are the settings that hold them.
"""

SANDBOX_PORT = 8765

SANDBOX_CREDENTIALS = {
    "QWOTY_API_TOKEN": "qwoty_sandbox_token",
    "PRIOTICKET_CLIENT_ID": "sandbox-prioticket-client",
    "PRIOTICKET_CLIENT_SECRET": "sandbox-prioticket-secret",
    "KOYWE_API_TOKEN": "koywe_sandbox_token",
    "KOYWE_ORGANIZATION_ID": "org_sandbox",
    "KOYWE_MERCHANT_ID": "mer_sandbox",
}
