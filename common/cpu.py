"""What this machine's CPU (or GPU) does fast: oneDNN and bfloat16.

TensorFlow 2.15 turns oneDNN's custom operations on by default only on CPUs
with AVX512_VNNI, AVX512_BF16 or AMX. On an AVX2 CPU they are off, and the
demo network's training step is much slower without them (docs/benchmarks.md).
The CLIs call
`enable_onednn_if_unset` in `main`; a user's own TF_ENABLE_ONEDNN_OPTS wins.

bfloat16 runs in three ways: natively (oneDNN with AVX512_BF16 or AMX, or a
GPU of compute capability 8.0 or more), emulated (oneDNN on AVX512 without
BF16, or TensorFlow's own kernels where oneDNN's custom operations are off),
or not at all (oneDNN's custom operations on a CPU without AVX512).
"""

import os

import tensorflow as tf

ONEDNN_OPTS_VARIABLE = "TF_ENABLE_ONEDNN_OPTS"

# CPU flags (Linux /proc/cpuinfo names) of instructions that compute in
# bfloat16 rather than convert to float32 and back.
_NATIVE_BFLOAT16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")

# oneDNN's ONEDNN_MAX_CPU_ISA values that stop below AVX512_CORE_BF16: a
# limit set there leaves bfloat16 emulated even on a CPU that has it.
_ONEDNN_ISAS_WITHOUT_BFLOAT16 = ("SSE41", "AVX", "AVX2", "AVX2_VNNI",
                                 "AVX2_VNNI_2", "AVX512_CORE",
                                 "AVX512_CORE_VNNI")


def enable_onednn_if_unset(environ=None):
  """Turns oneDNN's custom operations on unless the user chose either way.

  TensorFlow reads TF_ENABLE_ONEDNN_OPTS when it first optimizes a graph,
  not when it is imported (checked with TF 2.15: setting it after
  `import tensorflow` still prints "oneDNN custom operations are on"), so
  `main` can call this before building its first graph.

  Args:
    environ: the environment to change (default `os.environ`).

  Returns:
    True when this call set the variable.
  """
  environ = os.environ if environ is None else environ
  if environ.get(ONEDNN_OPTS_VARIABLE, "") != "":
    return False
  environ[ONEDNN_OPTS_VARIABLE] = "1"
  return True


def onednn_enabled():
  """Whether TensorFlow runs oneDNN's custom operations in this process."""
  # TensorFlow has no public call for it; its own start-up line comes from
  # this function.
  from tensorflow.python.util import _pywrap_util_port  # pylint: disable=g-import-not-at-top
  return bool(_pywrap_util_port.IsMklEnabled())


# The extensions that tell this project's CPU kinds apart (every measured
# figure names them).
KIND_FLAGS = ("avx512f", "avx512_bf16", "amx_bf16")


def cpu_kind(cpuinfo="/proc/cpuinfo"):
  """The CPU model and which of KIND_FLAGS it has, for measured figures."""
  model = "unknown CPU"
  try:
    with open(cpuinfo) as f:
      for line in f:
        if line.startswith("model name"):
          model = line.split(":", 1)[1].strip()
          break
  except OSError:
    pass
  wide = [f for f in KIND_FLAGS if f in cpu_flags(cpuinfo)]
  return "%s (%s)" % (model, ", ".join(wide) or "no AVX512")


def cpu_flags(cpuinfo="/proc/cpuinfo"):
  """The CPU's feature flags as a set (empty where the file is missing)."""
  try:
    with open(cpuinfo) as f:
      for line in f:
        if line.startswith("flags"):
          return set(line.split(":", 1)[1].split())
  except OSError:
    pass
  return set()


def onednn_isa_allows_bfloat16(environ=None):
  """Whether ONEDNN_MAX_CPU_ISA (if set) leaves oneDNN its bfloat16 code."""
  environ = os.environ if environ is None else environ
  limit = environ.get("ONEDNN_MAX_CPU_ISA", "").strip().upper()
  return limit not in _ONEDNN_ISAS_WITHOUT_BFLOAT16


def bfloat16_native():
  """Whether bfloat16 runs natively here, faster than float32.

  A GPU counts when TensorFlow places work on one and its compute
  capability is 8.0 or more (Ampere and later); a CPU when oneDNN's
  custom operations are on, the CPU has AVX512_BF16 or AMX and
  ONEDNN_MAX_CPU_ISA does not cap oneDNN below them.
  """
  gpus = tf.config.list_physical_devices("GPU")
  if gpus:
    details = tf.config.experimental.get_device_details(gpus[0])
    return tuple(details.get("compute_capability", (0, 0))) >= (8, 0)
  return (onednn_enabled() and onednn_isa_allows_bfloat16() and
          bool(cpu_flags() & set(_NATIVE_BFLOAT16_CPU_FLAGS)))


def bfloat16_emulation_warning():
  """The warning for bfloat16 that runs, but slower than float32, or None."""
  if bfloat16_native():
    return None
  return ("bfloat16 is emulated on this machine (no AVX512_BF16 or AMX "
          "under oneDNN, no GPU of compute capability 8.0+): it trains, but "
          "slower than float32.")
