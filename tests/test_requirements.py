"""The GPU requirements are the CPU ones with TensorFlow's CUDA build."""

import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _requirements(name):
  with open(os.path.join(ROOT, name)) as f:
    return [line.strip() for line in f
            if line.strip() and not line.startswith("#")]


def test_gpu_requirements_swap_only_tensorflow():
  cpu, gpu = _requirements("requirements.txt"), _requirements(
      "requirements-gpu.txt")
  assert "tensorflow-cpu==2.15.1" in cpu
  assert "tensorflow[and-cuda]==2.15.1" in gpu
  assert not any(line.startswith("tensorflow-cpu") for line in gpu)
  swap = {"tensorflow-cpu==2.15.1": "tensorflow[and-cuda]==2.15.1"}
  assert [swap.get(line, line) for line in cpu] == gpu
