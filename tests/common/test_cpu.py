"""Tests for common/cpu.py: oneDNN's switch and where bfloat16 is native."""

import os
import subprocess
import sys

from common import cpu

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def test_enable_onednn_if_unset_leaves_the_users_choice():
  environ = {}
  assert cpu.enable_onednn_if_unset(environ)
  assert environ == {"TF_ENABLE_ONEDNN_OPTS": "1"}
  for choice in ("0", "1"):
    environ = {"TF_ENABLE_ONEDNN_OPTS": choice}
    assert not cpu.enable_onednn_if_unset(environ)
    assert environ == {"TF_ENABLE_ONEDNN_OPTS": choice}
  # An empty value counts as unset, as TensorFlow reads it.
  environ = {"TF_ENABLE_ONEDNN_OPTS": ""}
  assert cpu.enable_onednn_if_unset(environ)
  assert environ["TF_ENABLE_ONEDNN_OPTS"] == "1"


def test_setting_it_after_importing_tensorflow_takes_effect():
  # What the CLIs rely on: TensorFlow reads the variable when it first
  # optimizes a graph, so main() can set it after the imports.
  code = ("import os, tensorflow as tf\n"
          "from common import cpu\n"
          "cpu.enable_onednn_if_unset()\n"
          "tf.constant(1.0) + 1.0\n"
          "print(cpu.onednn_enabled())\n")
  env = dict(os.environ, PYTHONPATH=ROOT, CUDA_VISIBLE_DEVICES="",
             TF_CPP_MIN_LOG_LEVEL="2")
  env.pop("TF_ENABLE_ONEDNN_OPTS", None)
  for preset, expected in ((None, "True"), ("0", "False")):
    if preset is not None:
      env["TF_ENABLE_ONEDNN_OPTS"] = preset
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT,
                         capture_output=True, text=True, timeout=120,
                         check=True).stdout
    assert out.strip().splitlines()[-1] == expected, (preset, out)


def test_cpu_flags_and_isa_limit(tmp_path):
  cpuinfo = tmp_path / "cpuinfo"
  cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu avx2 fma avx512f\n")
  assert cpu.cpu_flags(str(cpuinfo)) == {"fpu", "avx2", "fma", "avx512f"}
  assert cpu.cpu_flags(str(tmp_path / "missing")) == set()
  assert cpu.onednn_isa_allows_bfloat16({})
  assert cpu.onednn_isa_allows_bfloat16(
      {"ONEDNN_MAX_CPU_ISA": "AVX512_CORE_AMX"})
  assert not cpu.onednn_isa_allows_bfloat16({"ONEDNN_MAX_CPU_ISA": "avx2"})
  assert not cpu.onednn_isa_allows_bfloat16(
      {"ONEDNN_MAX_CPU_ISA": "AVX512_CORE"})
