"""MLflow "model from code": a pyfunc that only carries a model directory (no pickled Python objects).

Registered models are consumed by downloading their artifacts (``registry.resolve_model_dir``); this
pyfunc exists so that the registry entry is a valid MLflow model.
"""

import mlflow
from mlflow.pyfunc import PythonModel


class ModelDirectory(PythonModel):
    """pyfunc whose ``predict`` returns the local path of the carried model directory."""

    def load_context(self, context) -> None:
        self.model_dir = context.artifacts["model"]

    def predict(self, context, model_input: list[str], params: dict | None = None) -> list[str]:
        return [self.model_dir]


mlflow.models.set_model(ModelDirectory())
