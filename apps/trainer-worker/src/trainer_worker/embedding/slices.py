"""Topic slices (ADR 0020): a model's learnings clustered into topics over their stored embeddings.

The gate reports and tests every evaluation per slice, so a candidate that is better on average but
worse on one topic is seen. Clustering is k-means (scikit-learn) on the L2-normalised embeddings, k
chosen by a fixed rule and every random choice seeded, so the same learnings give the same slices:

* candidates k = 2 .. min(max_k, population // min_size): every slice holds about min_size
  learnings on average (a slice's held-out share must be large enough to test; `population` is the
  number of learnings the slicing will cover, of which `items` may be a sample);
* for each, k-means with n_init=10 and random_state=seed; the k with the highest mean silhouette
  (cosine) wins, ties to the smaller k;
* if no candidate exists (too few learnings) or the best silhouette is below min_silhouette (no
  topic structure worth naming), one slice holds everything.

Items are sorted by id before clustering, so the order they arrive in changes nothing. A slice's
label is its three most distinctive terms: the highest mean TF-IDF weight inside the slice minus the
weight over all learnings. Slice ids are s1..sk by decreasing size (then by label).
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

METHOD = "kmeans-silhouette.v1"
# Code identifiers and words; digits alone and one-letter names say nothing about a topic.
TOKEN_PATTERN = r"(?u)\b[A-Za-z_][A-Za-z0-9_]+\b"


@dataclass(frozen=True)
class SlicePolicy:
    max_k: int = 8
    min_size: int = 20
    min_silhouette: float = 0.05
    seed: int = 0
    label_terms: int = 3

    def __post_init__(self) -> None:
        if not 1 <= self.max_k <= 50:
            raise ValueError(f"max_k must be in 1..50 (got {self.max_k})")
        if not 2 <= self.min_size <= 10_000:
            raise ValueError(f"min_size must be in 2..10000 (got {self.min_size})")
        if not -1 <= self.min_silhouette <= 1:
            raise ValueError(f"min_silhouette must be in -1..1 (got {self.min_silhouette})")


@dataclass(frozen=True)
class Item:
    id: str
    vector: np.ndarray
    text: str


@dataclass
class Slicing:
    method: str
    k: int
    silhouette: float | None
    # k → mean silhouette of each candidate tried, for the record
    scores: dict[int, float]
    # slice id → (label, member ids in id order)
    slices: dict[str, tuple[str, list[str]]]
    # rows of the centroids, in slice-id order (s1 first), for assigning learnings not sent
    centroids: np.ndarray = field(repr=False)

    def assignment(self) -> dict[str, str]:
        return {member: sid for sid, (_, members) in self.slices.items() for member in members}


def decode_vector(b64: str) -> np.ndarray:
    """A float32 little-endian vector, as the TypeScript side stores it (learning_vectors.vector)."""
    raw = base64.b64decode(b64, validate=True)
    if len(raw) == 0 or len(raw) % 4:
        raise ValueError("a vector must be a non-empty whole number of float32 values")
    return np.frombuffer(raw, dtype="<f4").astype(np.float64)


def encode_vector(v: np.ndarray) -> str:
    return base64.b64encode(np.asarray(v, dtype="<f4").tobytes()).decode("ascii")


def _labels(texts: Sequence[str], assignment: np.ndarray, k: int, terms: int) -> list[str]:
    from sklearn.feature_extraction.text import TfidfVectorizer

    try:
        tfidf = TfidfVectorizer(token_pattern=TOKEN_PATTERN, lowercase=True, sublinear_tf=True)
        matrix = tfidf.fit_transform(texts)
    except ValueError:  # no term at all (e.g. only symbols): label by number alone
        return ["" for _ in range(k)]
    vocabulary = np.array(tfidf.get_feature_names_out())
    overall = np.asarray(matrix.mean(axis=0)).ravel()
    out = []
    for c in range(k):
        inside = np.asarray(matrix[assignment == c].mean(axis=0)).ravel()
        lift = inside - overall
        # stable order: by lift, then alphabetically, so equal weights never flip between runs
        order = sorted(range(len(vocabulary)), key=lambda i: (-round(float(lift[i]), 12), vocabulary[i]))
        out.append(", ".join(vocabulary[i] for i in order[:terms] if inside[i] > 0))
    return out


def cluster(
    items: Sequence[Item], policy: SlicePolicy = SlicePolicy(), population: int | None = None
) -> Slicing:
    """Slices of these learnings, or of the `population` they are a sample of (module docstring)."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    if not items:
        raise ValueError("no learnings to slice")
    ordered = sorted(items, key=lambda i: i.id)
    if len({i.id for i in ordered}) != len(ordered):
        raise ValueError("learning ids must be unique")
    dims = {i.vector.shape[0] for i in ordered}
    if len(dims) != 1:
        raise ValueError(f"all vectors must have one dimension (got {sorted(dims)})")
    x = np.vstack([i.vector for i in ordered])
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    x = x / np.where(norms == 0, 1, norms)
    n = len(ordered)
    # Not more clusters than distinct vectors: k-means would otherwise return empty clusters.
    distinct = len(np.unique(np.round(x, 6), axis=0))
    top = min(policy.max_k, max(n, population or 0) // policy.min_size, distinct, n - 1)
    scores: dict[int, float] = {}
    fits: dict[int, np.ndarray] = {}
    for k in range(2, top + 1):
        km = KMeans(n_clusters=k, n_init=10, random_state=policy.seed).fit(x)
        scores[k] = round(float(silhouette_score(x, km.labels_, metric="cosine")), 6)
        fits[k] = km.labels_
    best = max(scores, key=lambda k: (scores[k], -k)) if scores else 1
    if best == 1 or scores[best] < policy.min_silhouette:
        k, labels, silhouette = 1, np.zeros(n, dtype=int), (scores.get(best) if scores else None)
    else:
        k, labels, silhouette = best, fits[best], scores[best]
    names = _labels([i.text for i in ordered], labels, k, policy.label_terms)
    # Slice ids by decreasing size, then label: independent of k-means' arbitrary cluster numbers.
    order = sorted(range(k), key=lambda c: (-int((labels == c).sum()), names[c]))
    slices: dict[str, tuple[str, list[str]]] = {}
    centroids = []
    for rank, c in enumerate(order, start=1):
        members = [ordered[i].id for i in np.flatnonzero(labels == c)]
        slices[f"s{rank}"] = (names[c] or f"slice {rank}", members)
        centroids.append(x[labels == c].mean(axis=0))
    return Slicing(
        method=METHOD,
        k=k,
        silhouette=silhouette,
        scores=scores,
        slices=slices,
        centroids=np.vstack(centroids),
    )
