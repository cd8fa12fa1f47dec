"""TF_CONFIG for a SLURM job: one deep_speech.py task per node, every GPU.

SLURM tells each task its job's nodes (SLURM_JOB_NODELIST, in SLURM's
compressed form such as "gpu[01-03,07],big1") and which of them it runs on
(SLURM_NODEID). `tf_config_from_slurm` turns that into the TF_CONFIG of a
MultiWorkerMirroredStrategy cluster: worker i is node i, task index the
node's. Each worker then trains on all GPUs of its node (deep_speech.py's
default with TF_CONFIG).

  python -m training.slurm                 # prints TF_CONFIG for this task
  python -m training.slurm -- python deep_speech.py --model_dir=/shared/ds2 ...
                                           # runs the command with it set

scripts/slurm_train.sbatch calls the second form from srun.
"""

import json
import os
import re
import sys

from absl import app
from absl import flags

from official_utils.flags import core as flags_core

# Worker i listens on BASE_PORT + i (+ the job id's offset), so tasks of
# different jobs on one node, or two tasks sharing one host in a test, do
# not collide.
BASE_PORT = 20000
_JOB_PORT_SPREAD = 10000
_PROGRAM = "training/slurm.py"


class SlurmError(ValueError):
  """SLURM's environment does not describe a job this module can run."""


def expand_nodelist(nodelist):
  """SLURM's compressed node list as host names, in order.

  "node[01-03,07],login" -> ["node01", "node02", "node03", "node07",
  "login"]; zero padding is kept, several bracket groups in one name
  ("r[1-2]n[1-2]") expand to every combination.
  """
  hosts = []
  for name in _split_top_level(nodelist.strip()):
    hosts.extend(_expand_name(name))
  return hosts


def _split_top_level(text):
  """Splits on commas outside brackets."""
  parts, depth, start = [], 0, 0
  for i, char in enumerate(text):
    if char == "[":
      depth += 1
    elif char == "]":
      depth -= 1
      if depth < 0:
        raise SlurmError("unbalanced ']' in node list %r" % text)
    elif char == "," and depth == 0:
      parts.append(text[start:i])
      start = i + 1
  if depth:
    raise SlurmError("unbalanced '[' in node list %r" % text)
  parts.append(text[start:])
  return [p for p in parts if p]


def _expand_name(name):
  match = re.search(r"\[([^\]]*)\]", name)
  if not match:
    return [name]
  prefix, rest = name[:match.start()], name[match.end():]
  hosts = []
  for item in match.group(1).split(","):
    bounds = item.split("-")
    if len(bounds) == 1 and bounds[0].isdigit():
      numbers = [bounds[0]]
    elif len(bounds) == 2 and all(b.isdigit() for b in bounds):
      width = len(bounds[0])
      numbers = ["%0*d" % (width, n)
                 for n in range(int(bounds[0]), int(bounds[1]) + 1)]
    else:
      raise SlurmError("cannot read %r in node list entry %r" % (item, name))
    for number in numbers:
      hosts.extend(_expand_name(prefix + number + rest))
  return hosts


def job_port(environ, base_port=BASE_PORT):
  """The first worker's port: base_port plus an offset from the job id."""
  job_id = environ.get("SLURM_JOB_ID", "")
  # Job ids of job arrays ("1234_7") are not numbers: no offset then.
  offset = int(job_id) % _JOB_PORT_SPREAD if _is_count(job_id) else 0
  return base_port + offset


def _is_count(text):
  """Whether `text` is a whole number as SLURM writes one (ASCII digits)."""
  return text.isascii() and text.isdigit()


def _env_count(environ, name, default):
  """The whole number in environment variable `name`, or `default` if unset.

  Raises:
    SlurmError: naming the variable, when it holds anything else.
  """
  value = environ.get(name)
  if value is None:
    return default
  if not _is_count(value.strip()):
    raise SlurmError("%s=%r is not a whole number; is this SLURM's "
                     "environment?" % (name, value))
  return int(value)


def tf_config_from_slurm(environ, port=None):
  """TF_CONFIG (a dict) for this SLURM task, or None for a one-node job.

  Args:
    environ: the task's environment (os.environ or a dict).
    port: the first worker's port; default `job_port(environ)`. Worker i
      listens on port + i.

  Raises:
    SlurmError: not inside a SLURM job, or more tasks than nodes.
  """
  nodelist = environ.get("SLURM_JOB_NODELIST") or environ.get("SLURM_NODELIST")
  if not nodelist:
    raise SlurmError("SLURM_JOB_NODELIST is not set: not inside a SLURM job "
                     "(run this through srun in an sbatch script)")
  hosts = expand_nodelist(nodelist)
  tasks = _env_count(environ, "SLURM_NTASKS", len(hosts))
  if tasks != len(hosts):
    raise SlurmError("%d tasks on %d nodes: run one task per node "
                     "(#SBATCH --ntasks-per-node=1); each task uses every GPU "
                     "of its node" % (tasks, len(hosts)))
  if len(hosts) == 1:
    return None
  index = _env_count(environ, "SLURM_NODEID", None)
  if index is None:
    index = _env_count(environ, "SLURM_PROCID", 0)
  if not 0 <= index < len(hosts):
    raise SlurmError("SLURM_NODEID %d is not one of the job's %d nodes" % (
        index, len(hosts)))
  port = job_port(environ) if port is None else port
  return {"cluster": {"worker": ["%s:%d" % (host, port + i)
                                 for i, host in enumerate(hosts)]},
          "task": {"type": "worker", "index": index}}


def define_slurm_flags():
  flags.DEFINE_integer(
      "port", None, "first worker's port (default %d + SLURM_JOB_ID mod %d)"
      % (BASE_PORT, _JOB_PORT_SPREAD), lower_bound=1, upper_bound=65535)


def parse_command_line(argv):
  """Flags before `--` (into flags.FLAGS); returns the command after it."""
  own, command = argv, []
  if "--" in argv:
    own, command = argv[:argv.index("--")], argv[argv.index("--") + 1:]
  rest = flags_core.parse_flags(own, program=_PROGRAM)
  if len(rest) > 1:
    sys.stderr.write("%s: error: unexpected arguments %s (put the command "
                     "after --)\n" % (_PROGRAM, " ".join(rest[1:])))
    sys.exit(2)
  return command


def main(command):
  """Prints TF_CONFIG, or runs `command` (a list, may be empty) with it."""
  try:
    config = tf_config_from_slurm(os.environ, flags.FLAGS.port)
  except SlurmError as e:
    print("%s: error: %s" % (_PROGRAM, e), file=sys.stderr)
    return 1
  if not command:
    print(json.dumps(config) if config else "")
    return 0
  if config:
    os.environ["TF_CONFIG"] = json.dumps(config)
  sys.stdout.flush()
  os.execvp(command[0], command)


if __name__ == "__main__":
  define_slurm_flags()
  app.run(main, flags_parser=parse_command_line)
