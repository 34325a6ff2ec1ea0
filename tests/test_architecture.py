"""Which module may import which: the import-linter contracts in pyproject.toml hold (no cycles, no sandbox)."""

import subprocess
import sys

import pytest

from tests.test_settings import ROOT

# In a process of its own: run in this one, import-linter leaves the logging set up differently for the tests after.
LINT = "from importlinter.cli import lint_imports; raise SystemExit(lint_imports(no_cache=True))"


@pytest.mark.slow
def test_import_contracts_hold():
    result = subprocess.run([sys.executable, "-c", LINT], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout
