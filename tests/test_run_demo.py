"""`make run`'s supervisor (manage.py run_demo)."""

import sys

import pytest
from django.core.management import CommandError

from backoffice.management.commands.run_demo import Command


def test_make_run_names_the_process_that_stopped_and_stops_the_rest():
    demo = Command()
    demo.children, demo.names = [], {}
    demo._spawn("web", [sys.executable, "-c", "import time; time.sleep(30)"], None)
    demo._spawn("sandbox", [sys.executable, "-c", "raise SystemExit(3)"], None)
    try:
        with pytest.raises(CommandError, match=r"^The sandbox stopped \(exit code 3\): stopping everything\."):
            demo._wait()
    finally:
        demo._stop_children()
    assert demo.children[0].returncode is not None  # the web server was stopped with it
