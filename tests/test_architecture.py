"""Which module may import which: the import-linter contracts in pyproject.toml hold (no cycles, no sandbox)."""

import pytest
from importlinter.cli import lint_imports

from tests.test_settings import ROOT


@pytest.mark.slow
def test_import_contracts_hold(monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    exit_code = lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True)
    assert exit_code == 0, capsys.readouterr().out
