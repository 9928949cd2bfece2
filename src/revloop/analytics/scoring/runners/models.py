"""The stored model versions."""

from __future__ import annotations

from revloop.analytics.contract import RunContext
from revloop.analytics.scoring.model_store import list_models
from revloop.analytics.scoring.requests import ModelsRequest
from revloop.analytics.scoring.results import ModelsResult, ModelVersion
from revloop.store import Store


def run(store: Store, request: ModelsRequest, context: RunContext | None = None) -> ModelsResult:
    """Every stored model version with its card, newest first within each model."""
    return ModelsResult(models=[
        ModelVersion(model_id=r["model_id"], name=r["name"], version=int(r["version"]),
                     created_at=r["created_at"], card=r["card"]) for r in list_models(store)])
