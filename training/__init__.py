"""The training loop's parts: cycles and resume, hooks, runtime checks, export."""
