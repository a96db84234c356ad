"""Semantic memory's embedding side (ADR 0018): sentence embeddings of learnings and of search
queries, computed here in Python and served over NATS request/reply to the TypeScript services that
own the vectors (the learner's indexer, the gateway's search)."""
