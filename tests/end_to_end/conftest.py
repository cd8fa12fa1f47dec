"""End-to-end scenarios: the CLIs run as a user runs them, in subprocesses.

Every test here is slow (seconds to minutes): `make test-fast` leaves them out.
"""

import pytest


def pytest_collection_modifyitems(items):
  for item in items:
    if "end_to_end" in str(item.fspath):
      item.add_marker(pytest.mark.slow)
