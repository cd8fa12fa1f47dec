"""Property tests: manifests and audio from strangers (random bytes, random
rows, huge fields, odd encodings) give data/manifest.py's reader and
data/validate.py a report or a clear error, never another exception or a
hang.

FUZZ_EXAMPLES=400 runs a longer search (random seeds) than the suite's
fixed 40 examples per property."""

import contextlib
import io
import os
import shutil
import struct
import tempfile

import hypothesis
from hypothesis import strategies as st
import numpy as np

from data import featurizer
from data import manifest
from data import validate
from data import vocabulary
import deep_speech_model
from tests import conftest

TOKENS = featurizer.TextFeaturizer(vocabulary.VOCABULARY_FILE).token_to_index
CHECK = manifest.AudioCheck(featurizer.AudioFeaturizer(), max_audio_sec=20,
                            time_reduction=deep_speech_model.TIME_REDUCTION)
HEADER = "\t".join(manifest.HEADER).encode()
SETTINGS = hypothesis.settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", 40)), deadline=5000,
    derandomize=not os.environ.get("FUZZ_EXAMPLES"),
    suppress_health_check=[hypothesis.HealthCheck.too_slow])


@contextlib.contextmanager
def _directory():
  path = tempfile.mkdtemp(prefix="strangers-")
  try:
    yield path
  finally:
    shutil.rmtree(path, ignore_errors=True)


def _audio_files(directory, junk):
  """A real clip, random bytes, and random bytes behind a WAV header."""
  good = os.path.join(directory, "good.wav")
  conftest.write_wav(good, conftest.synthesize("cat", np.random.default_rng(0)))
  noise = os.path.join(directory, "noise.wav")
  with open(noise, "wb") as f:
    f.write(junk)
  fake = os.path.join(directory, "fake.wav")
  with open(fake, "wb") as f:
    f.write(b"RIFF" + struct.pack("<I", len(junk) + 4) + b"WAVE" + junk)
  return [good, noise, fake]


def _read_and_validate(path):
  """Both entry points; returns what each made of the file."""
  try:
    entries, skipped = manifest.read_manifest(path, TOKENS, CHECK,
                                              num_threads=2)
    assert all(s.reason in manifest.REASONS for s in skipped)
    assert all(isinstance(e.line, int) for e in entries)
    outcome = "read"
  except manifest.ManifestError as e:
    assert path in str(e)
    outcome = "error"
  with contextlib.redirect_stdout(io.StringIO()) as out:
    status, _ = validate.validate(path, TOKENS, CHECK, num_threads=2)
  assert status in (validate.EXIT_OK, validate.EXIT_BAD_ROWS,
                    validate.EXIT_UNUSABLE)
  assert path in out.getvalue()
  if outcome == "error":
    assert status == validate.EXIT_UNUSABLE
  return outcome, status


@SETTINGS
@hypothesis.given(st.binary(max_size=4000))
def test_random_bytes(data):
  with _directory() as directory:
    path = os.path.join(directory, "m.csv")
    with open(path, "wb") as f:
      f.write(data)
    _read_and_validate(path)


_FIELD = st.one_of(
    st.text(max_size=40),
    st.text(alphabet="abc '\t\r\n\x00-", max_size=40),
    st.integers(-10 ** 30, 10 ** 30).map(str),
    st.sampled_from(["", " ", "cat", "9" * 5000, "a" * 200000, "\x00",
                     "\ufeffcat", "caf\u00e9", "-", "nan", "1e3"]),
)


@SETTINGS
@hypothesis.given(
    rows=st.lists(st.tuples(st.one_of(_FIELD, st.integers(0, 2)), _FIELD,
                            _FIELD), max_size=12),
    encoding=st.sampled_from(["utf-8", "latin-1", "utf-16", "utf-8-sig"]),
    newline=st.sampled_from(["\n", "\r\n", "\r"]),
    junk=st.binary(max_size=300))
def test_random_rows_and_encodings(rows, encoding, newline, junk):
  with _directory() as directory:
    audio = _audio_files(directory, junk)
    lines = ["\t".join(manifest.HEADER)]
    for name, size, transcript in rows:
      if isinstance(name, int):  # one of the audio files
        name = audio[name]
      lines.append("%s\t%s\t%s" % (name, size, transcript))
    text = newline.join(lines) + newline
    path = os.path.join(directory, "m.csv")
    with open(path, "wb") as f:
      f.write(text.encode(encoding, "replace"))
    outcome, _ = _read_and_validate(path)
    if encoding in ("utf-8", "latin-1") and newline != "\r":
      # The header is ASCII in both: the file is read as rows.
      assert outcome == "read"


@SETTINGS
@hypothesis.given(st.lists(st.binary(max_size=300), min_size=1, max_size=8))
def test_header_then_random_byte_rows(rows):
  with _directory() as directory:
    path = os.path.join(directory, "m.csv")
    with open(path, "wb") as f:
      f.write(HEADER + b"\n" + b"\n".join(rows))
    assert _read_and_validate(path)[0] == "read"
