"""`make run`'s supervisor (manage.py run_demo)."""

import signal
import sys

import pytest
from django.core.management import CommandError

from backoffice.management.commands.run_demo import Command


def test_make_run_names_the_process_that_stopped_and_stops_the_rest(settings, monkeypatch):
    settings.DEBUG = True
    demo = Command()

    def start(port):  # instead of the sandbox, migrations, the web server…: a long-lived child and one that fails
        demo._spawn("web", [sys.executable, "-c", "import time; time.sleep(60)"], None)
        demo._spawn("sandbox", [sys.executable, "-c", "raise SystemExit(3)"], None)

    monkeypatch.setattr(demo, "_start", start)
    monkeypatch.setattr(signal, "signal", lambda *args: None)  # the test process keeps its own SIGTERM handler
    with pytest.raises(CommandError, match=r"^The sandbox stopped \(exit code 3\): stopping everything\."):
        demo.handle(port=0)
    web = demo.children[0]
    assert web.returncode is not None  # stopped by run_demo on its way out, not left running
