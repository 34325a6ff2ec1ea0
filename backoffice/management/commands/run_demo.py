"""Start the whole back office for a demo: sandbox upstream, migrations, pull, demo logins, web server, worker.

Used by `make run`. Everything it starts stops on Ctrl-C. Data persists in var/ (sandbox) and
the configured database, so running it again picks up where it left off.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8000)), help="Web server port.")

    def handle(self, *args, port, **options):
        if not settings.DEBUG:
            raise CommandError("run_demo is for development (DEBUG on).")
        self.children: list[subprocess.Popen] = []
        self.names: dict[int, str] = {}  # of the children, by pid: "web", "worker", "sweep", "sandbox"
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        try:
            self._start(port)
            self._wait()
        except KeyboardInterrupt:
            pass
        finally:
            self._stop_children()

    def _start(self, port: int) -> None:
        env = os.environ.copy()
        if _uses_sandbox():
            self._start_sandbox()
        self.stdout.write("Migrating…")
        call_command("migrate", verbosity=0)
        self.stdout.write(f"Pulling from {settings.QWOTY_API_URL}…")
        call_command("qwoty_pull", no_progress=True)
        self.stdout.write("Demo logins (role, username / password):")
        call_command("demo_users")
        manage = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py")]
        self._spawn("web", [*manage, "runserver", f"127.0.0.1:{port}", "--noreload"], env)
        self._spawn("worker", [*manage, "qwoty_worker", "--threads", "4"], env)
        self._spawn("sweep", [*manage, "qwoty_sweep", "--every", "30"], env)
        self.stdout.write(self.style.SUCCESS(f"\nBack office: http://127.0.0.1:{port}/   (Django admin: /admin/)"))
        self.stdout.write("Press Ctrl-C to stop everything.")

    def _start_sandbox(self) -> None:
        port = settings.SANDBOX_PORT
        if _sandbox_up():
            raise CommandError(f"Port {port} already answers as a sandbox: is another `make run` still running?")
        db = Path(settings.BASE_DIR) / "var" / "sandbox.sqlite3"
        db.parent.mkdir(exist_ok=True)
        self._spawn("sandbox", [sys.executable, "-m", "sandbox", "--port", str(port), "--db", str(db)], None)
        deadline = time.monotonic() + 20
        while not _sandbox_up():
            if time.monotonic() > deadline or self.children[-1].poll() is not None:
                raise CommandError(f"The sandbox did not start on port {port}.")
            time.sleep(0.2)

    def _spawn(self, name: str, argv: list[str], env) -> None:
        self.children.append(subprocess.Popen(argv, env=env, cwd=settings.BASE_DIR))
        self.names[self.children[-1].pid] = name

    def _wait(self) -> None:
        """Until a child stops: the demo is all of them (the web pages without the sandbox would only show errors)."""
        while True:
            for child in self.children:
                if child.poll() is not None:
                    raise CommandError(
                        f"The {self.names[child.pid]} stopped (exit code {child.returncode}): stopping everything. "
                        "Run `make run` again to start it all."
                    )
            time.sleep(0.5)

    def _stop_children(self) -> None:
        for child in reversed(self.children):
            if child.poll() is None:
                child.terminate()
        for child in self.children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
        self.stdout.write("Stopped.")


def _uses_sandbox() -> bool:
    return settings.QWOTY_API_URL.startswith(f"http://127.0.0.1:{settings.SANDBOX_PORT}/")


def _sandbox_up() -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{settings.SANDBOX_PORT}/__sandbox__/health", timeout=0.5).ok
    except requests.RequestException:
        return False
