"""A test double of Qwoty's API, run as its own process or inside tests.

Pure standard library (plus python-stdnum for realistic tax IDs), no Django:
`python -m backoffice.qwoty.sandbox` starts it; tests use `SandboxServer`.
"""

from .server import DEFAULT_PORT, DEFAULT_TOKEN, SandboxServer

__all__ = ["DEFAULT_PORT", "DEFAULT_TOKEN", "SandboxServer"]
