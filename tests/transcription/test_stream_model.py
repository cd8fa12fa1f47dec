"""Tests for transcription/stream_model.py, the network a stream feeds.

That its outputs, fed in pieces, are the offline graph's is tested through
the streaming transcriber (tests/transcription/test_streaming.py), on the
tiny streaming model those tests share.
"""

import re

import pytest

from transcription import model as model_lib
from transcription import stream_model
from tests.helpers import tiny_model


@pytest.mark.slow
def test_a_bidirectional_model_cannot_stream(tmp_path):
  model_dir, _ = tiny_model.build(str(tmp_path), steps=1, num_utts=1)
  checkpoint, _ = stream_model.find_variables(model_dir)
  params = model_lib.infer_params(checkpoint)
  with pytest.raises(model_lib.ModelError,
                     match="^%s is bidirectional: .*--is_bidirectional=false"
                     % re.escape(checkpoint)):
    stream_model.StreamingNetwork(checkpoint, params, 161)
