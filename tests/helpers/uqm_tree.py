"""A look-alike of The Ur-Quan Masters voice pack, synthesized for tests.

No line of the real game is used: the races are real folder names (the
importer's dev and excluded lists are keyed by them), the clips are sox
tones, the text is made up. The tree has entries with and without clips,
timings that match and that do not, a hostile clip name, a name that looks
like an option, numbers, emphasis, a placeholder, an aside and a line
timed far too short for its text.
"""

import os
import subprocess
import zipfile

RATE = 11025

# race -> (dialogue text, timing text, {clip: seconds}); "\t" separates key
# and clip as in the game's files. "é" checks the Latin-1 decoding.
RACES = {
    "commander": (
        "#(HELLO)\tcommander-000.ogg\n"
        "Hello Captain, we have 25 ships.\n"
        "Go *now*!\n"
        "Caf\xe9 at `noon'.\n"
        "\n"
        "#(NO_AUDIO)\n"
        "Nobody recorded this.\n"
        "\n"
        "#(MISMATCH)\tcommander-001.ogg   \n"
        "First line.\n"
        "Second line.\n"
        "Third line.\n"
        "#(HOSTILE)\t../../x.ogg\n"
        "Nothing.\n"
        "#(OPTION)\t-x.ogg\n"
        "Nothing.\n"
        "#(PLACEHOLDER)\tcommander-002.ogg\n"
        "You owe %s credits.\n"
        "#(LONG)\tcommander-003.ogg\n"
        "A long line.\n"
        "Another long line.\n"
        "#(ASIDE)\tcommander-004.ogg\n"
        "Well (sigh) fine.\n"
        "Yes.\n"
        "#(FAST)\tcommander-005.ogg\n"
        "Far too many words for a tenth of a second.\n"
        "Ok.\n"
        "#(LINKED)\tcommander-006.ogg\n"
        "A clip that is a link out of its folder.\n",
        "#(HELLO) 2000,500\n#(NO_AUDIO) \n#(MISMATCH) 700\n"
        "#(PLACEHOLDER) \n#(LONG) \n#(ASIDE) 400\n#(FAST) 100\n",
        {"commander-000.ogg": 3.3, "commander-001.ogg": 1.5,
         "commander-002.ogg": 0.8, "commander-003.ogg": 17.0,
         "commander-004.ogg": 1.0, "commander-005.ogg": 1.0}),
    "syreen": (
        "#(GREETING)\tsyreen-000.ogg\nWe met on the 1st day.\n",
        None,
        {"syreen-000.ogg": 1.2}),
    "orz": (
        "#(HI)\torz-000.ogg\nHello *friend*.\n",
        "#(HI) \n",
        {"orz-000.ogg": 0.9}),
}
# The voice pack's own dialogue file overrides the game's (base/comm).
OVERRIDDEN = ("zoqfotpik", "#(HI)\tzoqfotpik-000.ogg\nWrong words.\n",
              "#(HI)\tzoqfotpik-000.ogg\nRight words in 1940.\n",
              {"zoqfotpik-000.ogg": 1.5})


def _tone(path, seconds, freq):
  subprocess.run(["sox", "-n", "-r", str(RATE), "-c", "1", path, "synth",
                  str(seconds), "sine", str(freq), "vol", "0.3"], check=True)


def make_tree(folder):
  """Writes the look-alike tree into `folder` (3dovoice/, base/comm/).

  Also writes `folder/x.ogg`, the real file the hostile entry points at
  and a clip's symlink leads to, and a race folder whose name is no plain
  name.
  """
  freq = 220
  def race_dirs(race):
    voice = os.path.join(folder, "3dovoice", race)
    text = os.path.join(folder, "base", "comm", race)
    os.makedirs(voice)
    os.makedirs(text)
    return voice, text
  for race, (dialogue, timing, clips) in RACES.items():
    voice, text = race_dirs(race)
    with open(os.path.join(text, race + ".txt"), "w",
              encoding="latin-1") as f:
      f.write(dialogue)
    if timing is not None:
      with open(os.path.join(voice, race + ".ts"), "w") as f:
        f.write(timing)
    for clip, seconds in clips.items():
      freq += 40
      _tone(os.path.join(voice, clip), seconds, freq)
  race, base_text, own_text, clips = OVERRIDDEN
  voice, text = race_dirs(race)
  with open(os.path.join(text, race + ".txt"), "w", encoding="latin-1") as f:
    f.write(base_text)
  with open(os.path.join(voice, race + ".txt"), "w", encoding="latin-1") as f:
    f.write(own_text)
  for clip, seconds in clips.items():
    _tone(os.path.join(voice, clip), seconds, 500)
  _tone(os.path.join(folder, "x.ogg"), 0.5, 300)
  os.symlink(os.path.join("..", "..", "x.ogg"),
             os.path.join(folder, "3dovoice", "commander", "commander-006.ogg"))
  bad = os.path.join(folder, "3dovoice", "Bad Race")
  os.makedirs(bad)
  _tone(os.path.join(bad, "bad-000.ogg"), 0.5, 300)


def make_packages(tree, folder):
  """Zips `tree` as the game's two packages, plus hostile members.

  Returns:
    (voice package path, content package path) in `folder`.
  """
  voice = os.path.join(folder, "uqm-0.8.0-voice.uqm")
  content = os.path.join(folder, "uqm-0.8.0-content.uqm")
  for package, top in ((voice, "3dovoice"), (content, "base")):
    with zipfile.ZipFile(package, "w") as archive:
      for parent, _, names in os.walk(os.path.join(tree, top)):
        for name in names:
          path = os.path.join(parent, name)
          if os.path.islink(path):  # A zip holds no links.
            continue
          archive.write(path, os.path.relpath(path, tree))
      archive.writestr("../escaped.txt", "never written")
      archive.writestr(top + "/../../escaped.ogg", "never written")
  return voice, content


def snapshot(folder, skip=None):
  """{relative path: (size, mtime)} of every file under `folder`."""
  found = {}
  for parent, dirs, names in os.walk(folder):
    dirs[:] = [d for d in dirs if os.path.join(parent, d) != skip]
    for name in names:
      path = os.path.join(parent, name)
      stat = os.stat(path)
      found[os.path.relpath(path, folder)] = (stat.st_size, stat.st_mtime_ns)
  return found
