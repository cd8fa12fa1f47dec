r"""Plots of a training run and of one utterance, as PNG files.

    python plot.py --model_dir=/tmp/deep_speech_model --output=run.png
    python plot.py --model_dir=runs/a --model_dir=runs/b --output=ab.png
    python plot.py --audio=clip.wav --output=clip.png

With --model_dir, the figure shows each cycle's mean training loss and dev
WER and CER (solid: the mean over utterances, dashed: corpus level; dotted:
each --extra_eval_data_dir set's mean WER and CER, one line per set), read
from `<model_dir>/train_state.json`; it works on a finished directory or a
running one (the cycles finished so far), and overlays several directories.
With --audio, it shows the waveform and its spectrogram (the features the
model sees), as the Keras CTC example plotted them.

matplotlib is optional (requirements-extras.txt) and imported only here.
"""

import os
import sys

from absl import app
from absl import flags
import numpy as np
import soundfile

from common import output_paths
from common import safe_path
from data import featurizer
from training import cycles as cycles_lib
from training import train_state

X_AXES = ("cycle", "global_step")
# What --model_dir writes without --output, in the (first) model directory.
DEFAULT_TRAINING_PNG = "training_curves.png"


class PlotError(Exception):
  """Input that cannot be plotted; the message names the file."""


def _pyplot():
  """matplotlib.pyplot on the headless Agg backend, imported on first use."""
  try:
    import matplotlib  # pylint: disable=g-import-not-at-top
  except ImportError:
    raise PlotError("plotting needs matplotlib: pip install matplotlib "
                    "(or pip install -r requirements-extras.txt)") from None
  matplotlib.use("Agg")  # No display: batch machines, CI.
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
  return plt


def read_cycles(model_dir):
  """The finished cycles recorded in a model directory.

  Args:
    model_dir: a directory deep_speech.py trains (or trained) in.

  Returns:
    The list of cycle records (dicts with cycle, global_step, train_loss,
    WER, CER, corpus_WER, corpus_CER, ...), oldest first; empty while the
    first cycle is running.

  Raises:
    PlotError: no model directory, or an unreadable record.
  """
  if not os.path.isdir(model_dir):
    raise PlotError("%s is not a directory" % model_dir)
  path = os.path.join(model_dir, cycles_lib.STATE_FILE)
  if not os.path.exists(path):
    return []
  try:
    return train_state.read_record(path)["cycles"]
  except OSError as e:
    raise PlotError("%s: cannot read the cycle record: %s" % (path, e))
  except train_state.RecordError as e:
    raise PlotError("%s; is it a train_state.json?" % e)


def run_label(model_dir):
  """A short legend label: the directory's last two path components."""
  parts = os.path.normpath(os.path.abspath(model_dir)).split(os.sep)
  return os.path.join(*parts[-2:]) if len(parts) > 1 else parts[-1]


def extra_set_names(cycles):
  """The extra evaluation sets recorded in any cycle, in first-seen order."""
  names = []
  for cycle in cycles:
    names += [n for n in cycle.get("extra_eval", {}) if n not in names]
  return names


def _series(cycles, x_key, y_key, set_name=None):
  """(xs, ys) of the cycles that have a finite value for y_key.

  With set_name, y_key is read from that extra evaluation set's figures.
  """
  def value(cycle):
    figures = (cycle.get("extra_eval", {}).get(set_name, {}) if set_name
               else cycle)
    return figures.get(y_key)

  points = [(c.get(x_key), value(c)) for c in cycles]
  points = [(x, y) for x, y in points
            if x is not None and y is not None and np.isfinite(y)]
  return [x for x, _ in points], [y for _, y in points]


def plot_training(model_dirs, output, x_axis="cycle"):
  """Writes training loss, WER and CER per cycle of each directory to a PNG.

  Args:
    model_dirs: list of model directories, overlaid in one figure.
    output: the PNG file to write.
    x_axis: "cycle" or "global_step".

  Returns:
    dict, directory -> number of cycles plotted.

  Raises:
    PlotError: a bad directory or record, or no finished cycle anywhere.
  """
  if x_axis not in X_AXES:
    raise PlotError("unknown x axis %r (one of %s)" % (x_axis,
                                                       ", ".join(X_AXES)))
  runs = [(d, read_cycles(d)) for d in model_dirs]
  if not any(cycles for _, cycles in runs):
    raise PlotError("no finished cycle yet in %s (%s is written after each "
                    "evaluation)" % (", ".join(model_dirs),
                                     cycles_lib.STATE_FILE))
  plt = _pyplot()
  fig, axes = plt.subplots(1, 3, figsize=(12, 3.6))
  panels = (("train_loss", None, "training loss (cycle mean)"),
            ("WER", "corpus_WER", "dev WER"),
            ("CER", "corpus_CER", "dev CER"))
  for index, (model_dir, cycles) in enumerate(runs):
    color = "C%d" % (index % 10)
    for ax, (key, corpus_key, _) in zip(axes, panels):
      xs, ys = _series(cycles, x_axis, key)
      ax.plot(xs, ys, "o-", color=color, markersize=3,
              label=run_label(model_dir))
      if corpus_key:
        xs, ys = _series(cycles, x_axis, corpus_key)
        ax.plot(xs, ys, "--", color=color, linewidth=1)
        for number, name in enumerate(extra_set_names(cycles)):
          xs, ys = _series(cycles, x_axis, key, set_name=name)
          ax.plot(xs, ys, ":", color=color, marker="sv^<>dp"[number % 7],
                  markersize=3, linewidth=1,
                  label="%s [%s]" % (run_label(model_dir), name))
  for ax, (_, corpus_key, title) in zip(axes, panels):
    ax.set_title(title + (" (dashed: corpus)" if corpus_key else ""),
                 fontsize=10)
    ax.set_xlabel(x_axis.replace("_", " "))
    ax.grid(alpha=0.3)
  axes[0].set_yscale("log")
  axes[0].legend(fontsize=8)
  if any(extra_set_names(cycles) for _, cycles in runs):
    axes[1].legend(fontsize=7, title="dotted: extra sets",
                   title_fontsize=7)
  fig.tight_layout()
  _save(fig, output, plt)
  return {d: len(cycles) for d, cycles in runs}


def plot_audio(audio_path, output, window_ms=20.0, stride_ms=10.0,
               transcript=None):
  """Writes the waveform and its log spectrogram to a PNG.

  Args:
    audio_path: an audio file soundfile reads (WAV, FLAC); a multi-channel
      file is averaged to mono.
    output: the PNG file to write.
    window_ms: spectrogram window, in ms.
    stride_ms: spectrogram hop, in ms.
    transcript: optional text shown as the title.

  Raises:
    PlotError: an unreadable or too short file.
  """
  try:
    samples, sample_rate = soundfile.read(safe_path.for_tools(audio_path),
                                          dtype="float32")
  except (OSError, RuntimeError) as e:  # soundfile raises LibsndfileError.
    raise PlotError("%s: cannot read audio: %s" % (audio_path, e))
  if samples.ndim > 1:
    samples = samples.mean(axis=1)
  try:
    spectrogram = featurizer.compute_spectrogram_feature(
        samples, sample_rate, stride_ms=stride_ms, window_ms=window_ms)
  except ValueError as e:
    raise PlotError("%s: %s" % (audio_path, e))
  plt = _pyplot()
  fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 5))
  seconds = len(samples) / float(sample_rate)
  # [bins, frames], low frequencies at the bottom.
  top.imshow(spectrogram.T, origin="lower", aspect="auto", cmap="magma",
             extent=(0, seconds, 0, sample_rate / 2000.0))
  top.set_ylabel("kHz")
  top.set_title(transcript or os.path.basename(audio_path), fontsize=10)
  bottom.plot(np.arange(len(samples)) / float(sample_rate), samples,
              linewidth=0.5)
  bottom.set_xlim(0, seconds)
  bottom.set_xlabel("seconds")
  bottom.set_title("Signal Wave", fontsize=10)
  fig.tight_layout()
  _save(fig, output, plt)


def _save(fig, output, plt):
  directory = os.path.dirname(os.path.abspath(output))
  os.makedirs(directory, exist_ok=True)
  try:
    fig.savefig(output, dpi=100)
  except OSError as e:
    raise PlotError("cannot write %s: %s" % (output, e))
  finally:
    plt.close(fig)


def define_plot_flags():
  flags.DEFINE_multi_string(
      "model_dir", None, "A model directory to plot (its train_state.json); "
      "repeat to overlay several.")
  flags.DEFINE_string("audio", None, "An audio file: plot its waveform and "
                      "spectrogram instead.")
  flags.DEFINE_string("transcript", None, "Title of the --audio figure.")
  flags.DEFINE_string(
      "output", None, "The PNG file to write (with --model_dir, default: "
      "%s in the first model directory)." % DEFAULT_TRAINING_PNG)
  flags.DEFINE_enum("x_axis", "cycle", X_AXES, "The --model_dir plots' x "
                    "axis.")
  flags.DEFINE_float("window_ms", 20.0, "Spectrogram window in ms.")
  flags.DEFINE_float("stride_ms", 10.0, "Spectrogram stride in ms.")
  for name in ("window_ms", "stride_ms"):
    flags.register_validator(name, lambda value: value > 0,
                             message="--%s must be > 0" % name)


def main(argv):
  if len(argv) > 1:
    sys.exit("plot.py: error: unexpected arguments %s" % " ".join(argv[1:]))
  flags_obj = flags.FLAGS
  if bool(flags_obj.model_dir) == bool(flags_obj.audio):
    sys.exit("plot.py: error: give --model_dir (one or more) or --audio")
  output = flags_obj.output
  if not output and flags_obj.audio:
    sys.exit("plot.py: error: --output is required with --audio (a .png "
             "file)")
  if not output:
    # A run's own directory is where its curves are looked for later.
    output = os.path.join(flags_obj.model_dir[0], DEFAULT_TRAINING_PNG)
  try:
    output_paths.check_outputs(
        [("--output", output)],
        [("--audio", flags_obj.audio)] +
        [("--model_dir's", os.path.join(d, cycles_lib.STATE_FILE))
         for d in flags_obj.model_dir or []])
  except output_paths.OutputIsInputError as e:
    sys.stderr.write("plot.py: error: %s\n" % e)
    sys.exit(2)
  try:
    if flags_obj.audio:
      plot_audio(flags_obj.audio, output, flags_obj.window_ms,
                 flags_obj.stride_ms, flags_obj.transcript)
    else:
      counts = plot_training(flags_obj.model_dir, output,
                             flags_obj.x_axis)
      for model_dir, count in counts.items():
        print("%s: %d cycle(s)" % (model_dir, count))
  except PlotError as e:
    sys.exit("plot.py: error: %s" % e)
  print("wrote %s" % output)


if __name__ == "__main__":
  define_plot_flags()
  app.run(main)
