"""Flag definitions shared by the training scripts."""
