/**
 * `npm run bench` (second part) — semantic memory (ADR 0018): search p50/p99 of both vector index
 * adapters at BENCH_VECTOR_SIZES (default 10000,100000) vectors of 384 dimensions (MiniLM's), with
 * each store's raw write rate measured in the same run, and the embedder's throughput (learnings/s,
 * batched, CPU) through NATS request/reply. Weaviate is a real server (tools/infra/ensure-weaviate.sh).
 * BENCH_VECTOR_STORES=postgres skips Weaviate; BENCH_EMBED=0 skips the embedder.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { connect } from '@nats-io/transport-node';
import {
  PostgresVectorIndex,
  WeaviateVectorIndex,
  EmbeddingClient,
  type VectorIndex,
} from '@genesis/vectors';
import { EmbedderProcess, TestDatabase, TestNatsServer, TestWeaviate } from '@genesis/testing';

const DIMS = 384;
const QUERIES = 200;
const sizes = (process.env['BENCH_VECTOR_SIZES'] ?? '10000,100000').split(',').map(Number);
const stores = (process.env['BENCH_VECTOR_STORES'] ?? 'postgres,weaviate').split(',');

function randomVector(): number[] {
  return Array.from({ length: DIMS }, () => Math.random() * 2 - 1);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function fill(index: VectorIndex, from: number, to: number): Promise<number> {
  const started = performance.now();
  for (let i = from; i < to; i += 1000) {
    const n = Math.min(1000, to - i);
    await index.upsert(
      Array.from({ length: n }, () => ({ id: randomUUID(), modelId: 'bench', vector: randomVector() })),
    );
  }
  return ((to - from) / (performance.now() - started)) * 1000;
}

async function searchLatencies(index: VectorIndex): Promise<{ p50: number; p99: number }> {
  const times: number[] = [];
  for (let q = 0; q < QUERIES; q++) {
    const started = performance.now();
    await index.search({ modelId: 'bench', vector: randomVector(), k: 10 });
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p99: percentile(times, 99) };
}

async function benchStore(name: string, index: VectorIndex): Promise<void> {
  await index.ensure();
  let held = 0;
  for (const size of sizes) {
    const rate = await fill(index, held, size);
    held = size;
    const { p50, p99 } = await searchLatencies(index);
    console.log(
      `${name.padEnd(9)} ${String(size).padStart(7)} vectors: search top-10 p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms; raw upsert ${rate.toFixed(0)} vectors/s`,
    );
  }
}

async function benchEmbedder(): Promise<void> {
  const nats = await TestNatsServer.start();
  const embedder = await new EmbedderProcess({ NATS_URL: nats.url }).start();
  const nc = await connect({ servers: nats.url });
  try {
    const client = new EmbeddingClient(nc, 120_000);
    const batch = (i: number) =>
      Array.from({ length: 64 }, (_, j) => ({
        context: `def handler_${i}_${j}(request):`,
        correction: `    return respond(request, ${j})`,
      }));
    await client.learnings(batch(-1)); // warm-up
    const started = performance.now();
    const batches = 8;
    for (let i = 0; i < batches; i++) await client.learnings(batch(i));
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `embedder  ${(batches * 64) / seconds} learnings/s (batches of 64, CPU, request/reply)`.replace(
        /(\d+\.\d)\d+/,
        '$1',
      ),
    );
  } finally {
    await nc.close();
    await embedder.stop();
    await nats.dispose();
  }
}

async function main(): Promise<void> {
  if (stores.includes('postgres')) {
    const db = await TestDatabase.create();
    try {
      await benchStore('postgres', new PostgresVectorIndex(db.dataSource));
    } finally {
      await db.dispose();
    }
  }
  if (stores.includes('weaviate')) {
    const server = await TestWeaviate.start();
    const index = new WeaviateVectorIndex({
      url: server.url,
      grpcPort: server.grpcPort,
      apiKey: server.apiKey,
    });
    try {
      await benchStore('weaviate', index);
    } finally {
      await index.close();
      await server.dispose();
    }
  }
  if (process.env['BENCH_EMBED'] !== '0') await benchEmbedder();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
