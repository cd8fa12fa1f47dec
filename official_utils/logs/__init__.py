"""Benchmark logging and training hooks."""
