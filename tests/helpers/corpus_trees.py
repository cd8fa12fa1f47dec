"""Small look-alikes of Common Voice, TED-LIUM 3 and AN4 in their real layout.

The audio is real: MP3 clips and NIST SPHERE talks written by sox,
headerless big-endian 16-bit samples written with numpy; the text files are
the corpora's own formats (TSV with a header, STM, `<s> TEXT </s> (id)`).
"""

import os
import subprocess
import tarfile

import numpy as np

CV_HEADER = ("client_id", "path", "sentence", "up_votes", "down_votes", "age",
             "gender", "accents", "locale", "segment")
# split -> [(clip stem, sentence)]; one sentence has a digit (skipped with
# the default vocabulary), one needs its punctuation and accent dropped.
CV_SPLITS = {
    "train": [("common_voice_en_1", "Hello, world!"),
              ("common_voice_en_2", "It’s a “well-known” café."),
              ("common_voice_en_3", "Route 66 is long.")],
    "dev": [("common_voice_en_4", "Good morning.")],
    "test": [("common_voice_en_5", "See you soon?")],
}
# talk -> [(start, end, label+transcript)] of its STM.
TEDLIUM_TALKS = {
    "train": {"AlicePeak_2010": [
        (0.0, 1.0, "<o,f0,female> i 'm here today"),
        (1.0, 1.5, "<o,f0,female> ignore_time_segment_in_scoring"),
        (1.5, 2.5, "<o,f0,female> this is an <unk> word"),
        (2.5, 3.25, "<o,f0,female> {NOISE} we can't stop"),
    ]},
    "dev": {"BobRiver_2011": [(0.5, 1.75, "<o,f0,male> thank you")]},
    "test": {"CaraStone_2012": [(0.25, 1.0, "<o,f0,female> so there")]},
}
# split -> [(speaker, file id, text)].
AN4_UTTERANCES = {
    "train": [("fash", "an251-fash-b", "YES"),
              ("fash", "an253-fash-b", "GO"),
              ("fbbh", "an76-fbbh-b", "ENTER SIX TWO")],
    "test": [("fcaw", "an406-fcaw-b", "RUBOUT T G")],
}


def sox(*args):
  subprocess.run(["sox"] + [str(a) for a in args], check=True,
                 capture_output=True)


def write_mp3(path, seconds=0.4, freq=440):
  os.makedirs(os.path.dirname(str(path)), exist_ok=True)
  sox("-n", "-r", 16000, "-c", 1, path, "synth", seconds, "sine", freq)


def write_sph(path, seconds):
  sox("-n", "-r", 16000, "-c", 1, "-b", 16, "-t", "sph", path, "synth",
      seconds, "sine", 300)


def write_big_endian_raw(path, seconds, freq=500):
  t = np.arange(int(seconds * 16000)) / 16000.0
  samples = (8000 * np.sin(2 * np.pi * freq * t)).astype(">i2")
  samples.tofile(str(path))
  return samples


def tar_gz(source_dir, archive, arcname):
  with tarfile.open(str(archive), "w:gz") as tar:
    tar.add(str(source_dir), arcname=arcname)
  return archive


def make_commonvoice(root, splits=None, extra_lines=None, header=CV_HEADER,
                     skip_clips=()):
  """A release folder `root` (the `<lang>/` level) with clips/ and TSVs.

  Args:
    root: the language folder to create.
    splits: {split: [(clip stem, sentence)]}; default CV_SPLITS.
    extra_lines: {split: [raw TSV line]} appended to that split's file.
    header: the TSV columns.
    skip_clips: stems listed in the TSV whose MP3 is not written.
  """
  clips = root / "clips"
  clips.mkdir(parents=True)
  for split, rows in (splits or CV_SPLITS).items():
    lines = ["\t".join(header)]
    for number, (stem, sentence) in enumerate(rows):
      if stem not in skip_clips:
        write_mp3(clips / (stem + ".mp3"), 0.3 + 0.1 * number)
      values = {"client_id": "c%d" % number, "path": stem + ".mp3",
                "sentence": sentence, "locale": "en"}
      lines.append("\t".join(values.get(c, "") for c in header))
    lines += (extra_lines or {}).get(split, [])
    (root / (split + ".tsv")).write_text("\n".join(lines) + "\n",
                                         encoding="utf-8")
  (root / "validated.tsv").write_text("\t".join(header) + "\n")
  return root


def make_tedlium(root, talks=None, extra_stm=None):
  """A TED-LIUM 3 tree `root` with legacy/ and speaker-adaptation/ splits.

  Args:
    root: the `TEDLIUM_release-3` folder to create.
    talks: {split: {talk: [(start, end, text)]}}; default TEDLIUM_TALKS.
    extra_stm: {split: raw line} appended to the split's first STM.
  """
  for layout in ("legacy", "speaker-adaptation"):
    for split, split_talks in (talks or TEDLIUM_TALKS).items():
      for sub in ("sph", "stm"):
        (root / layout / split / sub).mkdir(parents=True)
      for number, (talk, segments) in enumerate(sorted(split_talks.items())):
        write_sph(root / layout / split / "sph" / (talk + ".sph"),
                  max(end for _, end, _ in segments) + 0.5)
        lines = ["%s 1 %s %.2f %.2f %s" % (talk, talk, start, end, text)
                 for start, end, text in segments]
        if number == 0 and split in (extra_stm or {}):
          lines.append(extra_stm[split])
        (root / layout / split / "stm" / (talk + ".stm")).write_text(
            "\n".join(lines) + "\n")
  return root


def make_an4(root, utterances=None, extra_lines=None, skip=()):
  """An `an4/` tree with big-endian raw recordings and transcriptions.

  Returns:
    {file id: the int16 samples written}.
  """
  folders = {"train": "an4_clstk", "test": "an4test_clstk"}
  written = {}
  (root / "etc").mkdir(parents=True)
  for split, rows in (utterances or AN4_UTTERANCES).items():
    lines = []
    for number, (speaker, fileid, text) in enumerate(rows):
      speaker_dir = root / "wav" / folders[split] / speaker
      speaker_dir.mkdir(parents=True, exist_ok=True)
      if fileid not in skip:
        written[fileid] = write_big_endian_raw(
            speaker_dir / (fileid + ".raw"), 0.25 + 0.05 * number)
      lines.append("<s> %s </s> (%s)" % (text, fileid))
    lines += (extra_lines or {}).get(split, [])
    (root / "etc" / ("an4_%s.transcription" % split)).write_text(
        "\n".join(lines) + "\n")
  return written
