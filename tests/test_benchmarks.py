"""The benchmarks still run end to end (a small size, figures not judged): a module moved or a service renamed
breaks `make bench-*` here, not on the day someone needs the figures."""

import subprocess
import sys

import pytest

from tests.test_settings import ROOT


@pytest.mark.slow
def test_bench_import_runs_and_applies_every_row():
    # The bench asserts itself that every row was applied and every contact saved once.
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_import", "--rows", "40"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "the whole import" in result.stdout
    assert "apply (catalog_update per row)" in result.stdout
