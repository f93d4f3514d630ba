"""Our own training pipeline: FER2013 in, a shipped .keras model with its contract out."""
