"""Drive a sandbox upstream over HTTP: its API as a client would, and its control endpoints (faults, log, reset).

Works the same for a sandbox in this process (tests) and one in its own process (chaos, benchmarks),
where it does not compete with the code under test for the interpreter.
"""

import subprocess
import sys
from pathlib import Path

import requests

from sandbox import DEFAULT_TOKEN

ROOT = Path(__file__).resolve().parent.parent


class Sandbox:
    def __init__(self, url: str, token: str = DEFAULT_TOKEN, process: subprocess.Popen | None = None):
        self.url = url  # ".../api"
        self.base_url = url.removesuffix("/api")
        self.token = token
        self.control = f"{self.base_url}/__sandbox__"
        self.prioticket_url = f"{self.base_url}/prioticket"  # token at /oauth2/token, API under /v3
        self.koywe_url = f"{self.base_url}/koywe/v1"
        self.process = process
        self.http = requests.Session()

    @classmethod
    def start_process(cls, *, customers: int, credentials: dict[str, str] | None = None) -> "Sandbox":
        """`python -m sandbox` on a free port, in memory; `credentials` (by setting name)
        replace the sandbox's public ones."""
        flags = [f"--{name.lower().replace('_', '-')}={value}" for name, value in (credentials or {}).items()]
        process = subprocess.Popen(
            [sys.executable, "-m", "sandbox", "--port", "0", "--customers", str(customers), *flags],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        line = process.stdout.readline()  # "Qwoty sandbox listening on http://127.0.0.1:PORT/api"
        if "listening on " not in line:
            process.kill()
            raise RuntimeError(f"sandbox did not start: {line!r}")
        token = (credentials or {}).get("QWOTY_API_TOKEN", DEFAULT_TOKEN)
        return cls(line.rsplit(" ", 1)[1].strip(), token=token, process=process)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def faults(self, **faults) -> None:
        self.http.post(f"{self.control}/faults", json=faults, timeout=5).raise_for_status()

    def clear_faults(self) -> None:
        self.http.post(f"{self.control}/faults/clear", timeout=5).raise_for_status()

    def clear_log(self) -> None:
        self.http.delete(f"{self.control}/requests", timeout=5).raise_for_status()

    def clear(self) -> None:
        self.clear_faults()
        self.clear_log()

    def received(self, method: str | None = None) -> list[dict]:
        params = {"method": method} if method else {}
        return self.http.get(f"{self.control}/requests", params=params, timeout=30).json()

    def reset(self) -> None:
        self.http.post(f"{self.control}/reset", timeout=30).raise_for_status()

    def api(self, method: str, path: str, **kwargs) -> requests.Response:
        """Call the sandbox API directly, as Qwoty's other clients would."""
        headers = {"Authorization": f"Bearer {self.token}"}
        return self.http.request(method, f"{self.url}/{path.lstrip('/')}", headers=headers, timeout=5, **kwargs)

    def prioticket_contact(self, contact_uid: str) -> dict | None:
        """The contact Prioticket's double stores, with its "order_references", or None."""
        response = self.http.get(f"{self.control}/prioticket/contacts/{contact_uid}", timeout=5)
        return None if response.status_code == 404 else response.json()

    def prioticket_revoke_tokens(self) -> None:
        self.http.post(f"{self.control}/prioticket/revoke", timeout=5).raise_for_status()

    def prioticket_token_ttl(self, seconds: int) -> None:
        """The lifetime of Prioticket tokens issued from now on."""
        self.http.post(f"{self.control}/prioticket/token-ttl", json={"seconds": seconds}, timeout=5).raise_for_status()

    def prioticket_tokens_issued(self) -> int:
        return self.http.get(f"{self.control}/prioticket/tokens-issued", timeout=5).json()["count"]

    def koywe_contact(self, contact_id: str) -> dict | None:
        """The contact Koywe's double stores, as it answered it, or None."""
        response = self.http.get(f"{self.control}/koywe/contacts/{contact_id}", timeout=5)
        return None if response.status_code == 404 else response.json()
