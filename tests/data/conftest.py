"""Fixtures shared by the tests of data/download.py and data/downloading/."""

import pytest

from tests.data.downloading import fakes


@pytest.fixture
def mirror(tmp_path):
  """A threaded HTTP server on 127.0.0.1 serving tmp_path/mirror."""
  root = tmp_path / "mirror"
  root.mkdir()
  server = fakes.start_mirror(root)
  yield server
  server.shutdown()
  server.server_close()
