"""Topic slices (ADR 0020): real all-MiniLM-L6-v2 embeddings of a labelled set of learnings on four
topics (libs/contracts/semantic/topic-learnings.v1.jsonl, which the TypeScript snapshot test uses
too), clustered by the embedder's `embeddings.cluster` rule. The clustering must be deterministic
(same learnings, any order → same slices and labels) and group the topics sensibly (purity printed)."""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from trainer_worker.embedding.model import Embedder, learning_text
from trainer_worker.embedding.service import BadRequest, parse_cluster_request, slicing_reply
from trainer_worker.embedding.slices import Item, SlicePolicy, cluster, encode_vector

TOPIC_LEARNINGS = (
    Path(__file__).resolve().parents[3] / "libs" / "contracts" / "semantic" / "topic-learnings.v1.jsonl"
)
ROWS = [json.loads(line) for line in TOPIC_LEARNINGS.read_text().splitlines() if line.strip()]
TOPICS = sorted({r["topic"] for r in ROWS})


@pytest.fixture(scope="module")
def labelled() -> list[tuple[Item, str]]:
    embedder = Embedder()
    rows = [(r["id"], r["topic"], r) for r in ROWS]
    texts = [learning_text(r[2]) for r in rows]
    vectors = embedder.embed(texts)
    return [
        (Item(id=rid, vector=np.asarray(v), text=t), topic)
        for (rid, topic, _), v, t in zip(rows, vectors, texts, strict=True)
    ]


def _purity(slicing_assignment: dict[str, str], truth: dict[str, str]) -> float:
    by_slice: dict[str, Counter[str]] = {}
    for item, sid in slicing_assignment.items():
        by_slice.setdefault(sid, Counter())[truth[item]] += 1
    return sum(c.most_common(1)[0][1] for c in by_slice.values()) / len(slicing_assignment)


def test_clustering_groups_labelled_topics_and_names_them(labelled: list[tuple[Item, str]]) -> None:
    items = [i for i, _ in labelled]
    truth = {i.id: t for i, t in labelled}
    result = cluster(items, SlicePolicy(min_size=8))
    purity = _purity(result.assignment(), truth)
    print(
        f"\n# slices of 40 learnings on 4 topics: k={result.k} (silhouette by k: {result.scores}), "
        f"purity {purity:.3f}; labels: "
        + "; ".join(f"{sid}={label!r} ({len(m)})" for sid, (label, m) in result.slices.items())
    )
    # 40 // 8 allows k up to 5; a fifth slice may split a topic (paths vs file contents), never mix two.
    assert result.k in (4, 5), f"the rule picked k={result.k}: {result.scores}"
    assert purity >= 0.9
    for topic in TOPICS:
        homes = {sid for m, sid in result.assignment().items() if truth[m] == topic}
        assert len(homes) <= 2, f"{topic} is spread over {homes}"
    # Each slice is named by terms of its own topic.
    words = {
        "sql": "cur execute select from",
        "regex": "re findall match regex search sub",
        "files": "path open file encoding with",
        "http": "requests get url timeout resp",
    }
    for _, (label, members) in result.slices.items():
        topic = Counter(truth[m] for m in members).most_common(1)[0][0]
        assert set(label.split(", ")) & set(words[topic].split()), f"{label!r} for {topic}"


def test_clustering_is_deterministic_whatever_the_order(labelled: list[tuple[Item, str]]) -> None:
    items = [i for i, _ in labelled]
    first = cluster(items, SlicePolicy(min_size=8))
    shuffled = list(items)
    random.Random(3).shuffle(shuffled)
    again = cluster(shuffled, SlicePolicy(min_size=8))
    assert again.slices == first.slices
    assert again.scores == first.scores
    assert np.array_equal(again.centroids, first.centroids)


def test_too_few_learnings_or_no_structure_give_one_slice(labelled: list[tuple[Item, str]]) -> None:
    few = [i for i, _ in labelled][:15]  # 15 learnings, min_size 8: no k ≥ 2 fits
    result = cluster(few, SlicePolicy(min_size=8))
    assert result.k == 1 and list(result.slices) == ["s1"]
    assert result.slices["s1"][1] == sorted(i.id for i in few)
    # A single topic has no structure worth splitting at a demanding silhouette.
    sql = [i for i, t in labelled if t == "sql"]
    assert cluster(sql, SlicePolicy(min_size=2, min_silhouette=0.5)).k == 1
    # A sample stands for its population: 15 sampled of 400 learnings may be split.
    assert cluster(few, SlicePolicy(min_size=8), population=400).k >= 2


def test_the_request_reply_round_trip_and_bad_requests(labelled: list[tuple[Item, str]]) -> None:
    body = json.dumps(
        {"items": [{"id": i.id, "vector": encode_vector(i.vector), "text": i.text} for i, _ in labelled]}
    ).encode()
    items, policy, population = parse_cluster_request(body)
    assert population == len(items)
    reply = slicing_reply(items, policy, population)
    assert reply["method"] == "kmeans-silhouette.v1"
    # min_size defaults to 20: 40 learnings allow k = 2 at most
    assert len(reply["slices"]) == reply["k"] == len(reply["centroids"]) == 2
    assert sorted(m for s in reply["slices"] for m in s["members"]) == sorted(i.id for i in items)
    for bad, why in [
        (b"{", "not JSON"),
        (b'{"items": []}', "between 1 and"),
        (b'{"items": [{"id": "a", "vector": "!!"}]}', "item 0"),
        (b'{"items": [{"id": "a", "vector": "AAAAAA=="}], "max_k": "3"}', "max_k must be a number"),
        (b'{"items": [{"id": "a", "vector": "AAAAAA=="}], "max_k": 0}', "max_k must be in"),
        (b'{"items": [{"id": "a", "vector": "AAAAAA=="}], "population": 0}', "population must be"),
    ]:
        with pytest.raises(BadRequest, match=why):
            parse_cluster_request(bad)
    mixed = [items[0], Item(id="other", vector=np.ones(3), text="x")]
    assert slicing_reply(mixed, SlicePolicy())["error"]["code"] == "SLICING_BAD_REQUEST"
