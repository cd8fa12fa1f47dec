"""Fixtures of the official_utils tests."""

import pytest

from official_utils.logs import logger


@pytest.fixture
def fresh_logger(monkeypatch):
  """Restores the process-wide benchmark logger after the test."""
  monkeypatch.setattr(logger, "_benchmark_logger", None)
