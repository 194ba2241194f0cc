"""The Prometheus alert rules in deploy/prometheus pass their promtool unit tests."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

PROMETHEUS_DIR = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"


@pytest.fixture(scope="module")
def promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        reason = "promtool is not installed (Debian package `prometheus`)"
        if os.environ.get("BWAI_REQUIRE_PROMTOOL") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return path


def test_alert_rules_are_valid(promtool: str) -> None:
    result = subprocess.run(  # noqa: S603 - a fixed promtool command on files of this repo
        [promtool, "check", "rules", "alerts.yml"],
        cwd=PROMETHEUS_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr


def test_alert_rules_pass_unit_tests(promtool: str) -> None:
    result = subprocess.run(  # noqa: S603 - a fixed promtool command on files of this repo
        [promtool, "test", "rules", "alerts_test.yml"],
        cwd=PROMETHEUS_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
