"""MLflow helpers: stage runs, model registration, gates. MLflow is optional (absent on the GPU box)."""
