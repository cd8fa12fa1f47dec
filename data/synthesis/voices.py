"""Synthetic speakers for the sample corpus and the engines that voice them.

A speaker is a base voice of one text-to-speech engine (flite, festival or
espeak-ng) plus a speaking rate and a pitch shift; each utterance adds a small
tempo change, a level, silence padding and a quiet noise floor of its own. The
voice table and its weights are documented in `data/sample_corpus.py`.

Everything random is drawn when the corpus is planned and stored as plain
numbers in `Speaker` and `UtteranceStyle`, so synthesis itself is a pure
function of those numbers: the engines, sox (without dither) and the seeded
noise below are deterministic, and the same plan gives the same samples.
"""

import collections
import math
import os
import shutil
import subprocess

import numpy as np
import soundfile

from common import atomic_file
from common import safe_path
from data.synthesis import text as text_lib

SAMPLE_RATE = 16000  # Hz, LibriSpeech's rate.

# engine, voice, weight, sex, rate range, pitch range (cents, applied by sox;
# espeak-ng takes its own 0-99 pitch instead). Rates are duration stretch
# factors (> 1 is slower) except for espeak-ng (words per minute). Weights
# follow measured intelligibility (pocketsphinx WER per voice,
# docs/benchmarks.md): the clearest flite and festival voices weigh most, and
# the robotic espeak-ng voices are about a tenth of speakers.
Voice = collections.namedtuple(
    "Voice", "key engine voice weight sex rate_range pitch_range")
VOICES = (
    Voice("flite-rms", "flite", "rms", 4, "M", (0.85, 1.15), (-200, 200)),
    Voice("flite-kal16", "flite", "kal16", 3, "M", (0.85, 1.15), (-200, 200)),
    Voice("festival-slt-hts", "festival", "cmu_us_slt_arctic_hts", 3, "F",
          (0.85, 1.15), (-200, 150)),
    Voice("festival-kal", "festival", "kal_diphone", 2, "M", (0.85, 1.15),
          (-200, 200)),
    Voice("flite-awb", "flite", "awb", 2, "M", (0.85, 1.15), (-200, 200)),
    Voice("flite-slt", "flite", "slt", 2, "F", (0.85, 1.15), (-200, 150)),
    Voice("festival-ked", "festival", "ked_diphone", 1, "M", (0.85, 1.15),
          (-200, 200)),
    Voice("espeak-ng", "espeak-ng", None, 2, None, (140, 185), (35, 65)),
)
# espeak-ng speakers pick one of these language+variant voices.
ESPEAK_VOICES = (("en-us+m1", "M"), ("en-us+m3", "M"), ("en-us+m7", "M"),
                 ("en-us+f2", "F"), ("en-us+f4", "F"), ("en-gb-x-rp+m2", "M"),
                 ("en-gb-x-rp+f3", "F"))
# HTS voices ignore festival's Duration_Stretch, so their rate goes to sox.
_SOX_RATE_VOICES = frozenset(["cmu_us_slt_arctic_hts"])

Speaker = collections.namedtuple(
    "Speaker", "id engine voice sex rate pitch")
# tempo: sox tempo factor (> 1 faster); level: peak in dBFS; noise: noise
# floor RMS in dBFS; tilt: noise spectral slope (0 white, 1 pink); lead/trail:
# padding in seconds; seed: int for the noise generator.
UtteranceStyle = collections.namedtuple(
    "UtteranceStyle", "tempo level noise tilt lead trail seed")


# Executable -> Debian package providing it.
TOOL_PACKAGES = {"flite": "flite", "festival": "festival",
                 "espeak-ng": "espeak-ng", "sox": "sox"}
FESTIVAL_VOICE_PACKAGES = {
    "festvox-kallpc16k": "/usr/share/festival/voices/english/kal_diphone",
    "festvox-kdlpc16k": "/usr/share/festival/voices/english/ked_diphone",
    "festvox-us-slt-hts": "/usr/share/festival/voices/us/cmu_us_slt_arctic_hts",
}


class MissingDependencyError(RuntimeError):
  """Debian packages the corpus needs are not installed."""


def find_tools(path=None):
  """Locates the engines and sox, or explains how to install them.

  Args:
    path: optional search path (os.pathsep-separated); defaults to $PATH.

  Returns:
    dict tool name -> absolute executable path.

  Raises:
    MissingDependencyError: with the exact apt-get line for everything
      missing (tools, festival voices, text packages).
  """
  tools = {name: shutil.which(name, path=path) for name in TOOL_PACKAGES}
  missing = [TOOL_PACKAGES[n] for n, p in tools.items() if p is None]
  missing += [pkg for pkg, voice_dir in FESTIVAL_VOICE_PACKAGES.items()
              if not os.path.isdir(voice_dir)]
  missing += text_lib.missing_text_packages()
  if missing:
    sudo = "" if hasattr(os, "geteuid") and os.geteuid() == 0 else "sudo "
    raise MissingDependencyError(
        "The sample corpus needs Debian packages that are not installed: %s."
        "\nInstall them with:\n\n  %sapt-get install -y %s\n" % (
            ", ".join(missing), sudo, " ".join(missing)))
  return tools


class SynthesisError(RuntimeError):
  """An engine or sox failed or produced no usable audio."""


def corpus_shares():
  """{voice key: its share of the corpus's speakers}, summing to 1.

  The shares `assign_voices` rounds to whole speakers (its own arithmetic
  keeps multiplying first, so that existing corpora keep their voices).
  """
  total = float(sum(v.weight for v in VOICES))
  return {v.key: v.weight / total for v in VOICES}


def assign_voices(num_speakers, rng):
  """Spreads speakers over VOICES in proportion to their weights.

  Largest-remainder rounding keeps even a handful of speakers on the most
  intelligible voices, and the shuffle mixes engines across speaker ids.

  Args:
    num_speakers: int >= 1.
    rng: random.Random.

  Returns:
    list of `Voice`, one per speaker.
  """
  total = sum(v.weight for v in VOICES)
  quotas = [num_speakers * v.weight / total for v in VOICES]
  counts = [int(q) for q in quotas]
  by_remainder = sorted(range(len(VOICES)), key=lambda i: counts[i] - quotas[i])
  for i in by_remainder[:num_speakers - sum(counts)]:
    counts[i] += 1
  voices = [v for v, c in zip(VOICES, counts) for _ in range(c)]
  rng.shuffle(voices)
  return voices


def make_speaker(speaker_id, voice, rng):
  """Draws one speaker's rate and pitch for a base voice.

  Args:
    speaker_id: int, the LibriSpeech-style speaker id.
    voice: `Voice`.
    rng: random.Random.

  Returns:
    `Speaker`.
  """
  name, sex = voice.voice, voice.sex
  if voice.engine == "espeak-ng":
    name, sex = rng.choice(ESPEAK_VOICES)
    rate = rng.randint(*voice.rate_range)
    pitch = rng.randint(*voice.pitch_range)
  else:
    rate = round(rng.uniform(*voice.rate_range), 3)
    pitch = rng.randint(*voice.pitch_range)
  return Speaker(speaker_id, voice.engine, name, sex, rate, pitch)


def make_style(rng):
  """Draws the per-utterance variation (see `UtteranceStyle`)."""
  return UtteranceStyle(
      tempo=round(rng.uniform(0.95, 1.05), 3),
      level=round(rng.uniform(-9.0, -1.0), 2),
      noise=round(rng.uniform(-68.0, -50.0), 2),
      tilt=round(rng.uniform(0.0, 1.0), 2),
      lead=round(rng.uniform(0.05, 0.3), 3),
      trail=round(rng.uniform(0.05, 0.3), 3),
      seed=rng.getrandbits(32))


def _run(cmd, what):
  """Runs a command, turning failures into SynthesisError with its stderr."""
  try:
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          check=False)
  except OSError as e:
    raise SynthesisError("%s: cannot run %s: %s" % (what, cmd[0], e)) from e
  if proc.returncode != 0:
    raise SynthesisError("%s: %s exited with %d: %s" % (
        what, " ".join(cmd), proc.returncode,
        proc.stderr.decode(errors="replace").strip()[-500:]))
  return proc.stdout


def speak(parts, tmp_dir, tools):
  """Speaks each part's texts with its speaker's engine into WAVs in tmp_dir.

  Festival speaks every part in one batch script: its start costs as much
  as several of its utterances (docs/benchmarks.md), and what it says does
  not depend on what it said before in the same process (checked byte for byte,
  voice and stretch set again for each part).

  Args:
    parts: list of (`Speaker`, list of str texts).
    tmp_dir: str, where the WAVs go.
    tools: dict tool name -> executable path.

  Returns:
    list (one per part) of lists of WAV paths, parallel to the texts.
  """
  paths = [[os.path.join(tmp_dir, "%03d-%04d.wav" % (p, i))
            for i in range(len(texts))] for p, (_, texts) in enumerate(parts)]
  script = []
  for (speaker, texts), wavs in zip(parts, paths):
    if speaker.engine == "flite":
      for text, path in zip(texts, wavs):
        _run([tools["flite"], "-voice", speaker.voice,
              "--setf", "duration_stretch=%g" % speaker.rate,
              "-t", text, "-o", path], "flite")
    elif speaker.engine == "espeak-ng":
      for text, path in zip(texts, wavs):
        _run([tools["espeak-ng"], "-v", speaker.voice, "-s",
              str(speaker.rate), "-p", str(speaker.pitch), "-w", path, text],
             "espeak-ng")
    elif speaker.engine == "festival":
      stretch = 1.0 if speaker.voice in _SOX_RATE_VOICES else speaker.rate
      script += ["(voice_%s)" % speaker.voice,
                 "(Parameter.set 'Duration_Stretch %g)" % stretch]
      # Normalized text holds only a-z, apostrophe and space: no escaping.
      script += ["(utt.save.wave (utt.synth (Utterance Text \"%s\")) \"%s\" "
                 "'riff)" % (text, path) for text, path in zip(texts, wavs)]
    else:
      raise ValueError("unknown engine %r" % speaker.engine)
  if script:
    script_path = os.path.join(tmp_dir, "batch.scm")
    with open(script_path, "w") as f:
      f.write("\n".join(script) + "\n")
    _run([tools["festival"], "--batch", script_path], "festival")
  for (speaker, texts), wavs in zip(parts, paths):
    for text, path in zip(texts, wavs):
      if not os.path.isfile(path) or os.path.getsize(path) < 1000:
        raise SynthesisError("%s (%s) wrote no audio for %r" % (
            speaker.engine, speaker.voice, text))
  return paths


def transform(wav_path, speaker, style, tools):
  """Applies tempo and pitch with sox and returns 16 kHz float32 samples.

  Output stays float so sox never dithers: dither is random noise, and
  the noise floor added afterwards is seeded per utterance instead.
  """
  tempo = style.tempo
  if speaker.engine == "festival" and speaker.voice in _SOX_RATE_VOICES:
    tempo /= speaker.rate
  effects = ["remix", "-", "tempo", "-s", "%.4f" % tempo]
  if speaker.engine != "espeak-ng" and speaker.pitch:
    effects += ["pitch", str(speaker.pitch)]
  effects += ["rate", "-v", str(SAMPLE_RATE)]
  raw = _run([tools["sox"], "-V1", safe_path.for_tools(wav_path), "-t",
              "raw", "-e", "floating-point", "-b", "32", "-"] + effects,
             "sox")
  return np.frombuffer(raw, dtype=np.float32).astype(np.float64)


def noise_floor(num_samples, style):
  """Seeded noise with a spectral tilt (0 white .. 1 pink), RMS in dBFS."""
  rng = np.random.default_rng(style.seed)
  spectrum = np.fft.rfft(rng.standard_normal(num_samples))
  freqs = np.arange(len(spectrum), dtype=np.float64)
  freqs[0] = 1.0
  noise = np.fft.irfft(spectrum / freqs ** (style.tilt / 2), n=num_samples)
  noise -= noise.mean()
  rms = math.sqrt(float(np.mean(noise ** 2))) or 1.0
  return noise * (10 ** (style.noise / 20) / rms)


def finish(speech, style, what):
  """Levels, pads and adds the noise floor to sox's output.

  Args:
    speech: float64 numpy array [samples] at SAMPLE_RATE, from `transform`.
    style: `UtteranceStyle`.
    what: str naming the engine and utterance in errors.

  Returns:
    float64 numpy array [samples] in [-1, 1] at SAMPLE_RATE.

  Raises:
    SynthesisError: the speech is silent or shorter than 0.2 s.
  """
  peak = float(np.max(np.abs(speech))) if speech.size else 0.0
  if peak < 1e-3 or speech.size < SAMPLE_RATE // 5:
    raise SynthesisError("%s produced silence" % what)
  speech = speech * (10 ** (style.level / 20) / peak)
  audio = np.concatenate([np.zeros(int(style.lead * SAMPLE_RATE)), speech,
                          np.zeros(int(style.trail * SAMPLE_RATE))])
  audio += noise_floor(len(audio), style)
  return np.clip(audio, -1.0, 1.0)


def render(wav_path, speaker, style, tools):
  """Turns one engine WAV into the final 16 kHz signal.

  Args:
    wav_path: str, engine output (any rate).
    speaker: `Speaker`.
    style: `UtteranceStyle`.
    tools: dict tool name -> executable path.

  Returns:
    float64 numpy array [samples] in [-1, 1] at SAMPLE_RATE.
  """
  return finish(transform(wav_path, speaker, style, tools), style,
                "%s (%s) for %s" % (speaker.engine, speaker.voice, wav_path))


def write_flac(path, audio):
  """Writes 16-bit mono FLAC atomically (temp name, then rename)."""
  with atomic_file.atomic_write(path, "wb") as f:
    soundfile.write(f, audio, SAMPLE_RATE, subtype="PCM_16", format="FLAC")
