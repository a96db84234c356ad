/**
 * npm run bench — ingest throughput and latency of the capture path, next to raw JetStream and
 * raw Postgres measured in the same run on the same machine, printed as ratios.
 * Not a test: it asserts nothing and prints numbers (and a JSON line for tooling).
 */
import { performance } from 'node:perf_hooks';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { SUBJECTS, makeEnvelope } from '@genesis/contracts';
import { ServiceProcess, TEST_WRITER_KEY, TestStack, sleep, waitFor } from '@genesis/testing';
import { CpuMeter, GROUPS, perUnit, type CpuSample } from './cpu-meter';
import { LoadClient } from './http-load';

const encoder = new TextEncoder();
const N = Number(process.env['BENCH_LEARNINGS'] ?? 20_000);
const BATCH = 1000;
const SINGLE_RPS = Number(process.env['BENCH_SINGLE_RPS'] ?? 1000);
const SINGLE_SECONDS = Number(process.env['BENCH_SINGLE_SECONDS'] ?? 10);
// Not measured: the first seconds at the offered rate, while V8 tiers up the hot paths (on 2 cores
// the compiler threads compete with the load) — seen as 0.5–2 s outliers in the first 2–3 s.
const WARMUP_SECONDS = Number(process.env['BENCH_WARMUP_SECONDS'] ?? 3);
// Keep-alive connections opened before the single-POST phase, as long-lived clients would hold.
const CONNECTIONS = 64;

function learning(i: number, tag: string) {
  return {
    kind: 'correction',
    source: `bench-${tag}`,
    language: 'python',
    context: `def handler_${i}(event, context):\n    items = event["items"]`,
    model_output: `    return sum(items)`,
    correction: `    return sum(item["price"] * item["qty"] for item in items)  # ${tag} ${i}`,
  };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/**
 * Raw JetStream publish rate with no application around it: `via: 'js'` is nats.js's own
 * `js.publish` (the reference the targets are stated against), `via: 'acked'` the services' own
 * publish path (AckedPublisher), printed alongside so the comparison stays honest.
 */
async function rawJetStream(stack: TestStack, via: 'js' | 'acked', meter: CpuMeter) {
  await stack.client.jsm.streams.add({
    name: 'BENCH_RAW',
    subjects: ['bench.raw'],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
  });
  const payloads = Array.from({ length: N }, (_, i) =>
    JSON.stringify(
      makeEnvelope(
        SUBJECTS.learningCaptured,
        { learning_id: randomUUID(), ...learning(i, 'raw') },
        {
          source: 'bench',
          modelId: 'genesis',
        },
      ),
    ),
  );
  const window = 1000;
  const cpu0 = meter.sample();
  const t0 = performance.now();
  for (let i = 0; i < N; i += window) {
    await Promise.all(
      payloads.slice(i, i + window).map((p, j) =>
        via === 'js'
          ? stack.client.js.publish('bench.raw', p, { msgID: `raw-${i + j}` })
          : stack.client.publisher.publish('bench.raw', encoder.encode(p), {
              'Nats-Msg-Id': `raw-${i + j}`,
            }),
      ),
    );
  }
  const rate = N / ((performance.now() - t0) / 1000);
  const cpu = perUnit(cpu0, meter.sample(), N);
  await stack.client.jsm.streams.delete('BENCH_RAW');
  return { rate, cpu };
}

async function rawPostgres(stack: TestStack): Promise<number> {
  await stack.db.query(`CREATE TABLE bench_raw (id uuid PRIMARY KEY, body text NOT NULL)`);
  const t0 = performance.now();
  for (let i = 0; i < N; i += BATCH) {
    const ids = Array.from({ length: Math.min(BATCH, N - i) }, () => randomUUID());
    await stack.db.query(`INSERT INTO bench_raw (id, body) SELECT unnest($1::uuid[]), 'x'`, [ids]);
  }
  const rate = N / ((performance.now() - t0) / 1000);
  await stack.db.query(`DROP TABLE bench_raw`);
  return rate;
}

async function storedCount(stack: TestStack, source: string): Promise<number> {
  const [{ n }] = await stack.db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM learnings WHERE source = $1`,
    [source],
  );
  return n;
}

async function batchIngest(stack: TestStack, gateway: ServiceProcess, meter: CpuMeter) {
  const batches = Math.ceil(N / BATCH);
  const concurrency = 4;
  const client = new LoadClient(gateway.baseUrl, TEST_WRITER_KEY);
  const cpu0 = meter.sample();
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < batches) {
        const b = next++;
        const learnings = Array.from({ length: BATCH }, (_, i) => learning(b * BATCH + i, 'batch'));
        const res = await client.post('/api/v1/learnings/batch', { learnings });
        if (res.status !== 202) throw new Error(`batch ${b}: ${res.status} ${res.text}`);
      }
    }),
  );
  const accepted = performance.now();
  client.close();
  await waitFor('all batch learnings stored', async () => (await storedCount(stack, 'bench-batch')) >= N, {
    timeoutMs: 600_000,
    intervalMs: 200,
  });
  const done = performance.now();
  // The phase is over when the learning.stored / learning.rejected events are out too, so the
  // single-POST phase does not measure the relay's leftovers.
  await stack.outboxDrained(600_000);
  const published = performance.now();
  const cpu = perUnit(cpu0, meter.sample(), N);
  return {
    cpu,
    acceptedPerS: N / ((accepted - t0) / 1000),
    storedPerS: N / ((done - t0) / 1000),
    storedAfterS: (done - t0) / 1000,
    eventsPublishedAfterS: (published - t0) / 1000,
  };
}

/**
 * Open loop at a fixed rate, so latency is measured as a client at that rate would see it. Two
 * measures: from each request's due time (the verdict: a generator that falls behind, e.g. starved
 * of CPU by the services on the same cores, cannot hide queueing) and from the moment it was sent
 * (the request's own round trip; the difference is the generator's lateness).
 */
async function openLoop(client: LoadClient, seconds: number, first: number) {
  const total = SINGLE_RPS * seconds;
  const latencies: number[] = [];
  const roundTrips: number[] = [];
  let failures = 0;
  const t0 = performance.now();
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / SINGLE_RPS;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    const sent = performance.now();
    inFlight.push(
      client.post('/api/v1/learnings', learning(first + i, 'single')).then((res) => {
        const now = performance.now();
        latencies.push(now - due);
        roundTrips.push(now - sent);
        if (res.status !== 202) failures++;
      }),
    );
  }
  await Promise.all(inFlight);
  const elapsed = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  roundTrips.sort((a, b) => a - b);
  return {
    offeredRps: SINGLE_RPS,
    achievedRps: total / elapsed,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: latencies[latencies.length - 1] ?? NaN,
    sentP99: percentile(roundTrips, 99),
    failures,
  };
}

async function singleIngest(gateway: ServiceProcess, meter: CpuMeter) {
  const client = new LoadClient(gateway.baseUrl, TEST_WRITER_KEY);
  try {
    await client.open(CONNECTIONS);
    const warmup = await openLoop(client, WARMUP_SECONDS, 10_000_000);
    const cpu0: CpuSample = meter.sample();
    const measured = await openLoop(client, SINGLE_SECONDS, 0);
    const cpu = perUnit(cpu0, meter.sample(), SINGLE_RPS * SINGLE_SECONDS);
    return { ...measured, cpu, warmupP99: warmup.p99 };
  } finally {
    client.close();
  }
}

async function main(): Promise<void> {
  const stack = await TestStack.start();
  const profileDir = process.env['BENCH_PROFILE_DIR'];
  const env = stack.env({
    GENESIS_RATE_LIMIT_PER_SECOND: '0',
    GENESIS_LOG_LEVEL: 'error',
  });
  // BENCH_PROFILE_DIR=<dir>: the services write V8 CPU profiles there when they stop.
  const nodeArgs = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  const [gateway, learner] = await Promise.all([
    ServiceProcess.start('gateway', env, { nodeArgs }),
    ServiceProcess.start('learner', env, { nodeArgs }),
  ]);
  try {
    console.log(
      `genesis bench: ${N} learnings, batches of ${BATCH}; single POSTs at ${SINGLE_RPS}/s for ${SINGLE_SECONDS}s (+${WARMUP_SECONDS}s warm-up)`,
    );
    const home = process.env['GENESIS_HOME'];
    const meter = CpuMeter.forStack(home && join(home, 'data', 'pg'), {
      gateway: gateway.pid,
      learner: learner.pid,
      nats: stack.nats.pid,
    });
    const { rate: rawNats, cpu: rawCpu } = await rawJetStream(stack, 'js', meter);
    const { rate: rawAcked } = await rawJetStream(stack, 'acked', meter);
    const rawPg = await rawPostgres(stack);
    const batch = await batchIngest(stack, gateway, meter);
    const single = await singleIngest(gateway, meter);
    const f = (x: number) => x.toFixed(0).padStart(8);
    console.log('');
    console.log(`raw JetStream publish (async, window 1000)   ${f(rawNats)} msg/s   (nats.js js.publish)`);
    console.log(
      `raw JetStream publish, AckedPublisher          ${f(rawAcked)} msg/s   (the services' publish path; batch end to end = ${(batch.storedPerS / rawAcked).toFixed(2)}× this)`,
    );
    console.log(`raw Postgres insert (1000-row statements)    ${f(rawPg)} rows/s`);
    console.log(
      `batch: accepted over HTTP                    ${f(batch.acceptedPerS)} learnings/s   ${(batch.acceptedPerS / rawNats).toFixed(2)}× raw publish`,
    );
    console.log(
      `batch: end to end (stored in Postgres)       ${f(batch.storedPerS)} learnings/s   ${(batch.storedPerS / rawNats).toFixed(2)}× raw publish, ${(batch.storedPerS / rawPg).toFixed(2)}× raw insert (all stored after ${batch.storedAfterS.toFixed(1)} s, their events published after ${batch.eventsPublishedAfterS.toFixed(1)} s)`,
    );
    console.log(
      `single POST at ${single.offeredRps}/s for ${SINGLE_SECONDS} s after ${WARMUP_SECONDS} s of warm-up: achieved ${single.achievedRps.toFixed(0)}/s, p50 ${single.p50.toFixed(1)} ms, p99 ${single.p99.toFixed(1)} ms, max ${single.max.toFixed(1)} ms from the due time (p99 ${single.sentP99.toFixed(1)} ms from the send), ${single.failures} non-202 (warm-up p99 ${single.warmupP99.toFixed(0)} ms)`,
    );
    printCpu(meter.cores, rawNats, [
      ['raw js.publish, per message', rawCpu],
      ['batch, per learning', batch.cpu],
      [`single POST at ${SINGLE_RPS}/s, per request`, single.cpu],
    ]);
    console.log(
      `targets: batch end to end ≥ 0.5× raw publish → ${batch.storedPerS / rawNats >= 0.5 ? 'met' : 'NOT met'}; single p99 < 25 ms at 1000/s → ${single.p99 < 25 && single.achievedRps >= 0.95 * single.offeredRps ? 'met' : 'NOT met'}`,
    );
    console.log(JSON.stringify({ bench: 'ingest', n: N, rawNats, rawAcked, rawPg, rawCpu, batch, single }));
  } finally {
    await Promise.all([gateway.stop(), learner.stop()]);
    await stack.dispose();
  }
}

type Cpu = ReturnType<typeof perUnit>;

/**
 * Where the CPU went, per unit of work, and the throughput that CPU alone allows: every process
 * shares the same cores, so cores / (the capture path's CPU-µs per learning) bounds learnings/s.
 * `steal` is time the hypervisor gave to other guests: a noisy host shows there.
 */
function printCpu(cores: number, rawNats: number, rows: [string, Cpu][]): void {
  const cell = (x: number | undefined) => (x === undefined ? 'n/a' : x.toFixed(0)).padStart(10);
  const processes = (cpu: Cpu) =>
    GROUPS.every((g) => cpu.groups[g] !== undefined)
      ? GROUPS.reduce((sum, g) => sum + cpu.groups[g]!, 0)
      : undefined;
  console.log('');
  console.log(
    `CPU-µs per unit, from /proc (${cores} cores shared by all)`.padEnd(46) +
      [...GROUPS, 'these 5', 'machine', 'steal'].map((g) => g.padStart(10)).join(''),
  );
  for (const [label, cpu] of rows) {
    console.log(
      label.padEnd(46) +
        GROUPS.map((g) => cell(cpu.groups[g])).join('') +
        cell(processes(cpu)) +
        cell(cpu.machine) +
        cell(cpu.steal),
    );
  }
  const batch = rows[1] && processes(rows[1][1]);
  if (batch) {
    const bound = (cores * 1e6) / batch;
    console.log(
      `batch, bound by these processes' CPU alone: ${cores} cores / ${batch.toFixed(0)} µs ≈ ${bound.toFixed(0)} learnings/s = ${(bound / rawNats).toFixed(2)}× raw publish; 0.5× needs ≤ ${((cores * 1e6) / (0.5 * rawNats)).toFixed(0)} µs per learning`,
    );
  }
}

main().catch((err: Error) => {
  console.error(`bench failed: ${err.message}`);
  process.exit(1);
});
