"""Distribution and model helpers."""
