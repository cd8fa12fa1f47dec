"""Another alphabet end to end: German speech from espeak-ng through every CLI.

make_vocabulary.py makes the vocabulary of the transcripts (capitals, ä, ö,
ü, ß), deep_speech.py trains a tiny model on it and exports it,
transcribe.py transcribes with it (JSON, UTF-8 whatever the locale),
build_lm.py builds an LM with the export's labels and text policy, and the
beam search decodes with that LM. A model this small and this briefly
trained transcribes nonsense; what must hold is that every step runs, that
the loss falls and that everything written is made of the vocabulary.
"""

import json
import os
import subprocess

from data import manifest
from data import vocabulary
from tests.helpers import cli
from tests.helpers.train import read_state

SENTENCES = ["Schöne Grüße aus Köln", "Äpfel sind süß", "Die große Straße",
             "Fünf Bäume blühen", "Weiße Mäuse hören", "Öl für die Küche",
             "Grüße an Jürgen", "Süße Brötchen"]
# An ASCII-only output encoding: transcribe.py must write UTF-8 anyway.
_ASCII_LOCALE = dict(os.environ, PYTHONIOENCODING="ascii", LC_ALL="C")


def _run(*args, env=None):
  proc = cli.run_script(*args, env=env, timeout=600)
  assert proc.returncode == 0, (args, proc.stderr[-3000:])
  return proc.stdout


def _german_corpus(directory):
  """espeak-ng's German voice saying SENTENCES, 16 kHz mono; the manifest."""
  os.makedirs(directory)
  entries = []
  for i, sentence in enumerate(SENTENCES):
    raw, wav = (os.path.join(directory, "%d%s.wav" % (i, tail))
                for tail in ("_22k", ""))
    subprocess.run(["espeak-ng", "-v", "de", "-s", "130", "-w", raw,
                    sentence], check=True, timeout=60)
    subprocess.run(["sox", raw, "-r", "16000", "-c", "1", "-b", "16", wav],
                   check=True, timeout=60)
    os.remove(raw)
    entries.append(manifest.ManifestEntry(wav, os.path.getsize(wav),
                                          sentence, 0))
  path = os.path.join(directory, "train.csv")
  manifest.write_manifest(path, entries)
  return path, [e.wav_filename for e in entries]


def _json_texts(stdout):
  return [json.loads(line)["text"] for line in stdout.splitlines()]


def test_german_speech_trains_transcribes_and_gets_an_lm(tmp_path):
  train, wavs = _german_corpus(str(tmp_path / "de"))
  vocab = str(tmp_path / "vocabulary.txt")
  _run("data/make_vocabulary.py", "--manifest=" + train,
       "--vocabulary_out=" + vocab)
  tokens = vocabulary.read_tokens(vocab)
  letters = set("".join(SENTENCES).lower())
  assert tokens == [" "] + sorted(letters - {" "}) + ["-"]
  assert {"ä", "ö", "ü", "ß"} <= set(tokens)

  model_dir, export_dir = str(tmp_path / "model"), str(tmp_path / "export")
  _run("deep_speech.py", "--train_data_dir=" + train,
       "--eval_data_dir=" + train, "--vocabulary_file=" + vocab,
       "--model_dir=" + model_dir, "--export_dir=" + export_dir,
       "--train_epochs=4", "--batch_size=4", "--rnn_hidden_size=32",
       "--rnn_hidden_layers=1", "--learning_rate=2e-3", "--conv_filters=8",
       "--show_samples=0")
  cycles = read_state(model_dir)["cycles"]
  assert [c["global_step"] for c in cycles] == [2, 4, 6, 8]
  assert cycles[-1]["train_loss"] < cycles[0]["train_loss"]
  (export_path,) = [os.path.join(export_dir, d)
                    for d in os.listdir(export_dir)]
  with open(os.path.join(export_path, "assets.extra",
                         "deep_speech_features.json"), encoding="utf-8") as f:
    settings = json.load(f)
  assert settings["speech_labels"] == "".join(tokens)
  assert settings["text_policy"] == {"unicode_form": "NFC",
                                     "strip_accents": False,
                                     "lowercase": True}

  allowed = set(tokens[:-1])
  texts = _json_texts(_run("transcribe.py", "--saved_model=" + export_dir,
                           "--output_format=json", *wavs, env=_ASCII_LOCALE))
  assert len(texts) == len(wavs)
  # Eight steps in, the model still writes letters (blanks come to
  # dominate later): what it writes is the vocabulary's.
  assert any(texts) and all(set(text) <= allowed for text in texts), texts

  # References are read with the export's labels and policy: lower-cased,
  # the umlauts kept.
  shown = _run("transcribe.py", "--saved_model=" + export_dir,
               "--manifest=" + train, "--num=2", env=_ASCII_LOCALE)
  assert "reference : schöne grüße aus köln\n" in shown
  assert "reference : äpfel sind süß\n" in shown

  arpa, words = str(tmp_path / "2gram.arpa"), str(tmp_path / "words.txt")
  _run("data/build_lm.py", "--manifest=" + train, "--order=2",
       "--model_settings=" + export_dir, "--lm_out=" + arpa,
       "--vocab_out=" + words)
  with open(arpa, encoding="utf-8") as f:
    unigrams = {line.split("\t")[1] for line in f
                if line.count("\t") >= 1 and " " not in line.split("\t")[1]}
  assert {"straße", "äpfel", "grüße", "köln", "süß"} <= unigrams
  texts = _json_texts(_run(
      "transcribe.py", "--saved_model=" + export_dir, "--lm_path=" + arpa,
      "--beam_width=16", "--output_format=json", *wavs, env=_ASCII_LOCALE))
  assert len(texts) == len(wavs)
  for text in texts:
    assert set(text.split()) <= unigrams, text
