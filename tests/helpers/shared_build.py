"""Expensive test fixtures built once per test run, for every xdist worker.

A session fixture is built once per worker process, and `make test` runs two:
each trained its own copy of the same tiny models (the same seeds give the
same weights), the largest share of the suite's setup time. Here the first
worker to ask builds into the run's shared temporary folder under a lock;
the others wait for it and read what it returned. Users must treat the
result as read-only, as they already must a session fixture's.
"""

import fcntl
import os
import pickle


def _run_root(tmp_path_factory):
  """The folder every worker of this run shares (the base temp folder
  itself without xdist)."""
  base = tmp_path_factory.getbasetemp()
  return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def once(tmp_path_factory, name, build):
  """`build(directory)`'s picklable result, built by one worker only.

  Args:
    tmp_path_factory: pytest's fixture.
    name: a folder name unique to this fixture.
    build: called with the folder to build in (a str), once per run.
  """
  root = _run_root(tmp_path_factory)
  directory = root / ("shared-" + name)
  done = root / ("shared-" + name + ".pickle")
  with open(str(root / ("shared-" + name + ".lock")), "w") as lock:
    fcntl.flock(lock, fcntl.LOCK_EX)
    if done.exists():
      with open(str(done), "rb") as f:
        return pickle.load(f)
    directory.mkdir(exist_ok=True)
    result = build(directory)
    with open(str(done) + ".tmp", "wb") as f:
      pickle.dump(result, f)
    os.replace(str(done) + ".tmp", str(done))
    return result
