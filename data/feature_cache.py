"""On-disk cache of utterance features, shared by epochs and runs.

Each utterance's final features (float32 [frames, bins, 1], after
normalization) are stored once under a key derived from the audio file's
path, size and modification time and from every featurizer setting, so a
changed file or a changed setting simply misses the cache. Entries are
serialized tensors written atomically (`common/atomic_file.py`), so a crash
never leaves a torn file that a later epoch would trust. Stale entries are not
deleted; remove the directory to reclaim the space.
"""

import hashlib
import os

from common import atomic_file

# Bump when the featurizer's numbers change, so old caches are ignored.
FEATURE_VERSION = 1


def cache_key(audio_path, audio_config):
  """Hex key for one file's features under one featurizer configuration.

  Args:
    audio_path: the audio file (it must exist).
    audio_config: an object with sample_rate, window_ms, stride_ms and
      normalize attributes.

  Returns:
    A 40-character hex string.
  """
  stat = os.stat(audio_path)
  description = "|".join(str(v) for v in (
      FEATURE_VERSION, os.path.abspath(audio_path), stat.st_size,
      stat.st_mtime_ns, audio_config.sample_rate, audio_config.window_ms,
      audio_config.stride_ms, audio_config.normalize))
  return hashlib.sha1(description.encode("utf-8")).hexdigest()


class FeatureCache(object):
  """Maps audio files to cache files in `directory`."""

  def __init__(self, directory, audio_config):
    self.directory = directory
    self.audio_config = audio_config
    os.makedirs(directory, exist_ok=True)

  def path_for(self, audio_path):
    key = cache_key(audio_path, self.audio_config)
    # Two-level fan-out keeps directories small for 280k utterances.
    return os.path.join(self.directory, key[:2], key + ".tensor")

  def lookup(self, audio_paths):
    """Cache paths and whether each is present, for a list of files."""
    paths = [self.path_for(p) for p in audio_paths]
    # A symbolic link at an entry's name counts as missing: the entry is
    # written again, and the rename replaces the link instead of reading or
    # writing through it.
    return paths, [os.path.isfile(p) and not os.path.islink(p) for p in paths]


def write_entry(cache_path, serialized):
  """Writes one serialized tensor atomically (called from tf.data).

  The temporary name carries the process id (`atomic_file.atomic_write`), so
  several training processes sharing a cache never write the same file; the
  fsync before the rename means a crash or power loss leaves no empty entry
  under the final name.

  Args:
    cache_path: bytes, the destination.
    serialized: bytes, `tf.io.serialize_tensor` output.

  Returns:
    True (a value for tf.numpy_function to return).

  Raises:
    atomic_file.WriteError: the entry cannot be written (a full disk).
  """
  atomic_file.write_bytes(cache_path.decode("utf-8"), serialized)
  return True
