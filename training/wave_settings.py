"""The waveform augmentation flags -> a `wave_augment.WaveAugment`.

Called only by training/settings.py's `setup_run`. The room bank is simulated
and the noise and babble recordings are read here, once per run, so each
utterance only convolves and mixes; errors come back in flag terms.
"""

import time

from absl import logging

from data import featurizer
from data import rooms
from data import wave_augment


def _reverb(flags_obj, sample_rate):
  if not flags_obj.reverb_prob:
    return None
  start = time.time()
  try:
    rirs = rooms.simulate_rirs(flags_obj.reverb_rooms,
                               _range(flags_obj, "reverb_rt60"), sample_rate,
                               flags_obj.seed)
  except rooms.MissingLibraryError as e:
    raise ValueError("--reverb_prob: %s" % e) from None
  logging.info("Simulated %d rooms for --reverb_prob in %.1f s.", len(rirs),
               time.time() - start)
  return wave_augment.Reverb(flags_obj.reverb_prob, rirs)


def _noise(flags_obj, sample_rate):
  if bool(flags_obj.noise_prob) != bool(flags_obj.noise_dir):
    raise ValueError("--noise_prob and --noise_dir go together (got %r and "
                     "%r)" % (flags_obj.noise_prob, flags_obj.noise_dir))
  if not flags_obj.noise_prob:
    return None
  try:
    tracks = wave_augment.load_noise_dir(flags_obj.noise_dir, sample_rate)
  except wave_augment.NoiseDirError as e:
    raise ValueError("--noise_dir: %s" % e) from None
  return wave_augment.Noise(flags_obj.noise_prob, tracks, _range(flags_obj, "noise_snr"))


def _range(flags_obj, name):
  """(--NAME_min, --NAME_max), or an error naming both if they cross."""
  low, high = (getattr(flags_obj, name + "_min"),
               getattr(flags_obj, name + "_max"))
  if low > high:
    raise ValueError("--%s_min=%r is above --%s_max=%r" % (name, low, name,
                                                           high))
  return low, high


def _babble(flags_obj, train_speech_dataset, sample_rate):
  if not flags_obj.babble_prob:
    return None
  pool = wave_augment.babble_pool(
      [e.wav_filename for e in train_speech_dataset.entries],
      lambda path: featurizer.read_audio(path, sample_rate), flags_obj.seed)
  return wave_augment.Babble(flags_obj.babble_prob, pool, _range(flags_obj, "noise_snr"))


def _channel(flags_obj, sample_rate):
  """Gain, the telephone band and the codecs (those asked for)."""
  steps = []
  if flags_obj.gain_prob:
    steps.append(wave_augment.Gain(
        flags_obj.gain_prob, _range(flags_obj, "gain_db")))
  if flags_obj.telephone_prob:
    steps.append(wave_augment.Telephone(flags_obj.telephone_prob,
                                        sample_rate))
  if flags_obj.codec_prob:
    try:
      steps.append(wave_augment.Codec(flags_obj.codec_prob, flags_obj.codecs,
                                      sample_rate))
    except (ValueError, RuntimeError) as e:
      raise ValueError("--codecs=%s: %s" % (",".join(flags_obj.codecs),
                                            e)) from None
  return steps


def wave_augmentation(flags_obj, train_speech_dataset):
  """The training waveform augmentation, from the flags (may be disabled).

  Args:
    flags_obj: the flags.
    train_speech_dataset: the training `DeepSpeechDataset` (babble talkers).

  Returns:
    A `wave_augment.WaveAugment`; not `enabled` with every flag at 0.

  Raises:
    ValueError: in flag terms: a bad range, a bad --noise_dir, a missing
      pyroomacoustics or sox.
  """
  sample_rate = flags_obj.sample_rate
  steps = [_reverb(flags_obj, sample_rate),
           _babble(flags_obj, train_speech_dataset, sample_rate),
           _noise(flags_obj, sample_rate)] + _channel(flags_obj, sample_rate)
  return wave_augment.WaveAugment(steps, flags_obj.seed)
