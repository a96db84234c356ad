import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from '@nats-io/transport-node';
import { AckPolicy } from '@nats-io/jetstream';
import { Objm } from '@nats-io/obj';
import { REQUESTS, STREAMS, SUBJECTS, dlqSubject, makeEnvelope, streamOf } from '@genesis/contracts';
import {
  ARTIFACTS_BUCKET,
  CONSUMER_CONFIGS,
  NATS_USERS,
  NatsClient,
  consumersOf,
  provisionTopology,
} from '@genesis/messaging';
import { Log } from '@genesis/observability';
import {
  NatsUsers,
  ServiceProcess,
  TEST_ADMIN_KEY,
  TEST_WRITER_KEY,
  TestStack,
  WorkerProcess,
  request,
  sleep,
  waitFor,
  workerAvailable,
  type TestNatsServer,
} from '@genesis/testing';

// The real server config (deploy/nats/nats-server.conf + the generated auth.conf) with fresh
// passwords: what each user may not do, what each user's code needs, and the real services running
// the loop on it with nats-server logging no permission violation at all.

const log = new Log('nats-permissions-test', undefined, 'error');
const encoder = new TextEncoder();
const VIOLATION = /Permissions Violation/;

describe('NATS users and their permissions (deploy/nats/auth.conf)', () => {
  const users = new NatsUsers();
  let server: TestNatsServer;
  const clients = new Map<string, NatsClient>();

  const as = async (user: string): Promise<NatsClient> => {
    let client = clients.get(user);
    if (!client) {
      client = await NatsClient.connect({
        url: server.url,
        name: `test-${user}`,
        log,
        auth: users.auth(user),
      });
      clients.set(user, client);
    }
    return client;
  };
  const lastOn = async (stream: string, subject: string) =>
    (await as('ops')).jsm.streams.getMessage(stream, { last_by_subj: subject });

  before(async () => {
    server = await users.startServer();
    await provisionTopology(await as('ops'), log);
  });

  after(async () => {
    await Promise.all([...clients.values()].map((c) => c.drain().catch(() => undefined)));
    await server?.dispose();
  });

  it('refuses a wrong password and a connection without credentials', async () => {
    const servers = server.url.replace('nats://', '');
    await assert.rejects(
      connect({ servers, user: 'gateway', pass: 'wrong', reconnect: false }),
      /Authorization Violation/i,
    );
    await assert.rejects(connect({ servers, reconnect: false }), /Authorization Violation/i);
  });

  it('the gateway cannot publish model.deployed: the publish fails and nothing is stored', async () => {
    const gateway = await as('gateway');
    await assert.rejects(
      gateway.js.publish(SUBJECTS.modelDeployed, encoder.encode('{}')),
      /Permissions Violation for Publish to "model.deployed"/,
    );
    assert.equal(await lastOn(STREAMS.events, SUBJECTS.modelDeployed), null);
  });

  it('the trainer-worker cannot publish the events of other phases', async () => {
    const worker = await as('trainer-worker');
    for (const subject of [
      SUBJECTS.modelDeployed,
      SUBJECTS.learningStored,
      SUBJECTS.thresholdReached,
      SUBJECTS.modelTrained,
      SUBJECTS.jobsTrain,
    ]) {
      await assert.rejects(
        worker.js.publish(subject, encoder.encode('{}')),
        new RegExp(`Permissions Violation for Publish to "${subject}"`),
      );
      const stream = streamOf(subject) ?? STREAMS.events;
      assert.equal(await lastOn(stream, subject), null, `${subject} reached the stream`);
    }
  });

  it("the learner pulls from its own consumer, and not from the trainer-worker's", async () => {
    const gateway = await as('gateway');
    await gateway.js.publish(SUBJECTS.learningCaptured, encoder.encode('{"n":1}'), { msgID: 'pull-1' });
    const learner = await as('learner');
    const own = await learner.js.consumers.get(STREAMS.captures, 'learner-learning-captured');
    const msg = await own.next({ expires: 5000 });
    assert.ok(msg, 'the learner got the captured learning');
    msg.working();
    assert.equal(await msg.ackAck(), true, 'the ack reached the server');
    const info = await (await as('ops')).jsm.consumers.info(STREAMS.captures, 'learner-learning-captured');
    assert.equal(info.num_ack_pending, 0);
    assert.ok(info.ack_floor.stream_seq >= msg.seq);

    await assert.rejects(learner.js.consumers.get(STREAMS.jobs, 'trainer-worker-jobs-train'), VIOLATION);
    await assert.rejects(
      learner.connection.request(
        `$JS.API.CONSUMER.MSG.NEXT.${STREAMS.jobs}.trainer-worker-jobs-train`,
        encoder.encode('{"batch":1}'),
        { timeout: 2000 },
      ),
      VIOLATION,
    );
  });

  it('no service can create, change, purge or delete streams and consumers (only ops)', async () => {
    for (const spec of NATS_USERS.filter((u) => !u.admin)) {
      const c = await as(spec.user);
      const why = `${spec.user} was allowed to`;
      await assert.rejects(c.jsm.streams.add({ name: 'ROGUE', subjects: ['rogue.>'] }), VIOLATION, why);
      await assert.rejects(c.jsm.streams.update(STREAMS.events, { max_age: 0 }), VIOLATION, why);
      await assert.rejects(c.jsm.streams.purge(STREAMS.events), VIOLATION, why);
      await assert.rejects(c.jsm.streams.delete(STREAMS.events), VIOLATION, why);
      await assert.rejects(c.jsm.streams.delete(STREAMS.dlq), VIOLATION, why);
      await assert.rejects(c.jsm.streams.purge(STREAMS.captureDlq), VIOLATION, why);
      // The gateway's event stream creates short-lived consumers of its own on GENESIS_EVENTS (below).
      if (!spec.eventReader)
        await assert.rejects(
          c.jsm.consumers.add(STREAMS.events, { durable_name: 'rogue', ack_policy: AckPolicy.Explicit }),
          VIOLATION,
          why,
        );
      await assert.rejects(
        c.jsm.consumers.add(STREAMS.captures, {
          durable_name: 'learner-learning-captured',
          ack_policy: AckPolicy.Explicit,
        }),
        VIOLATION,
        why,
      );
      await assert.rejects(
        c.jsm.consumers.delete(STREAMS.captures, 'learner-learning-captured'),
        VIOLATION,
        why,
      );
      await assert.rejects(c.jsm.streams.delete(`OBJ_${ARTIFACTS_BUCKET}`), VIOLATION, why);
    }
    const ops = await as('ops');
    const streams = await ops.jsm.streams.names().next();
    assert.deepEqual(
      [...streams].sort(),
      [
        STREAMS.dlq,
        STREAMS.captureDlq,
        STREAMS.events,
        STREAMS.captures,
        STREAMS.jobs,
        `OBJ_${ARTIFACTS_BUCKET}`,
      ].sort(),
    );
    assert.equal(
      (await ops.jsm.consumers.info(STREAMS.captures, 'learner-learning-captured')).name,
      'learner-learning-captured',
    );
  });

  it('a user receives only its own replies and cannot listen in on events', async () => {
    const learner = await as('learner');
    for (const subject of ['_INBOX.>', '_INBOX.gateway.>', 'learning.>', '>']) {
      // the server refuses the subscription; the client closes it with the error
      const closed = await learner.connection.subscribe(subject).closed;
      assert.match(String(closed), VIOLATION, subject);
    }
  });

  it('only the monitor (DLQ metrics) and the gateway (GENESIS_EVENTS, its event stream) read stream info', async () => {
    const monitor = await as('monitor');
    assert.equal((await monitor.jsm.streams.info(STREAMS.dlq)).config.name, STREAMS.dlq);
    assert.equal((await monitor.jsm.streams.info(STREAMS.captureDlq)).config.name, STREAMS.captureDlq);
    await assert.rejects((await as('learner')).jsm.streams.info(STREAMS.dlq), VIOLATION);
    await assert.rejects((await as('learner')).jsm.streams.info(STREAMS.captureDlq), VIOLATION);
    const gateway = await as('gateway');
    assert.equal((await gateway.jsm.streams.info(STREAMS.events)).config.name, STREAMS.events);
    await assert.rejects(gateway.jsm.streams.info(STREAMS.dlq), VIOLATION);
  });

  it("the gateway's event reader cannot pull from another service's durable consumer", async () => {
    const gateway = await as('gateway');
    await assert.rejects(
      gateway.connection.request(
        `$JS.API.CONSUMER.MSG.NEXT.${STREAMS.captures}.learner-learning-captured`,
        encoder.encode('{"batch":1}'),
        { timeout: 2000 },
      ),
      VIOLATION,
    );
  });

  it('the deployer reads artifacts and cannot write them; the gateway cannot read them', async () => {
    const key = 'adapters/test/adapter_model.safetensors';
    await (
      await new Objm((await as('ops')).js).open(ARTIFACTS_BUCKET)
    ).putBlob({ name: key }, encoder.encode('weights'));
    const deployer = await new Objm((await as('deployer')).js).open(ARTIFACTS_BUCKET);
    assert.equal(new TextDecoder().decode((await deployer.getBlob(key))!), 'weights');
    await assert.rejects(deployer.putBlob({ name: 'adapters/rogue' }, encoder.encode('x')), VIOLATION);
    await assert.rejects(new Objm((await as('gateway')).js).open(ARTIFACTS_BUCKET), VIOLATION);
  });

  it('the embedder answers embeddings.compute and .cluster for those that ask, and only answers (ADR 0018, 0020)', async () => {
    const embedder = await as('embedder');
    const subs = [REQUESTS.embeddingsCompute, REQUESTS.embeddingsCluster].map((subject) =>
      embedder.connection.subscribe(subject, {
        queue: 'embedder',
        callback: (_err, msg) => {
          msg.respond(encoder.encode('{"answered":true}'));
        },
      }),
    );
    await embedder.connection.flush();
    for (const spec of NATS_USERS.filter((u) => u.requests?.length)) {
      const c = await as(spec.user);
      for (const subject of spec.requests!) {
        const reply = await c.connection.request(subject, encoder.encode('{}'), { timeout: 5000 });
        assert.deepEqual(reply.json(), { answered: true }, `${spec.user} asked ${subject}`);
      }
    }
    // It may answer, not publish events.
    await assert.rejects(embedder.js.publish(SUBJECTS.learningStored, encoder.encode('{}')), VIOLATION);
    subs.forEach((sub) => sub.unsubscribe());
  });

  // What each user's code does, with the client libraries the code uses.
  for (const spec of NATS_USERS.filter((u) => !u.admin)) {
    it(`${spec.user} can do what its code does`, async () => {
      const c = await as(spec.user);
      await c.ping(); // the readiness check: flush + $JS.API.INFO

      for (const subject of spec.publishes) {
        const ack = await c.js.publish(subject, encoder.encode(`{"from":"${spec.user}"}`), {
          msgID: `${spec.user}-${subject}`,
        });
        assert.equal(ack.stream, streamOf(subject));
      }

      const ops = await as('ops');
      for (const { stream, durable } of consumersOf(spec.user)) {
        const filter = CONSUMER_CONFIGS.find((x) => x.config.durable_name === durable)!.config
          .filter_subject!;
        // A wildcard filter (the DLQ reader's dlq.*) gets a message on one subject it covers.
        await ops.js.publish(filter.replace(/[>*]$/, 'permissions-test'), encoder.encode('{"from":"ops"}'));
        const consumer = await c.js.consumers.get(stream, durable); // consumer info
        await c.jsm.consumers.info(stream, durable); // the runner's lag metrics
        const msg = await consumer.next({ expires: 5000 });
        assert.ok(msg, `${spec.user} pulled from ${durable}`);
        msg.working();
        assert.equal(await msg.ackAck(), true, `${spec.user} acked on ${durable}`);
        if (spec.deadLetters && stream !== STREAMS.dlq) {
          // A raw capture's dead letter has its own short-lived stream (ADR 0019).
          const dead = await c.js.publish(dlqSubject(durable, stream), encoder.encode('{}'));
          assert.equal(dead.stream, stream === STREAMS.captures ? STREAMS.captureDlq : STREAMS.dlq);
        }
        if (spec.deadLetters && stream === STREAMS.captures) {
          // a work queue keeps what JetStream gave up on: the runner deletes it once dead-lettered
          const stuck = await ops.js.publish(filter, encoder.encode('{"from":"ops"}'));
          assert.equal(await c.jsm.streams.deleteMessage(stream, stuck.seq, false), true);
        }
      }

      for (const stream of spec.streamInfo ?? []) {
        assert.equal((await c.jsm.streams.info(stream)).config.name, stream);
      }

      if (spec.artifacts !== 'none') {
        const store = await new Objm(c.js).open(ARTIFACTS_BUCKET);
        if (spec.artifacts === 'read-write') {
          const key = `test/${spec.user}.bin`;
          const bytes = encoder.encode(`${spec.user} `.repeat(100_000)); // several chunks
          await store.putBlob({ name: key }, bytes);
          await store.putBlob({ name: key }, bytes); // an overwrite purges the replaced chunks
          assert.equal((await store.info(key))?.size, bytes.length);
          assert.deepEqual(await store.getBlob(key), bytes);
          await store.delete(key); // a rebuilt snapshot's old object (ADR 0017): chunks purged
          assert.equal((await store.info(key))?.deleted, true);
        } else {
          assert.ok(await store.getBlob('adapters/test/adapter_model.safetensors'));
        }
      }
    });
  }
});

describe('the services on a nats-server with per-service users', () => {
  const THRESHOLD = 20;
  let stack: TestStack;
  const services: ServiceProcess[] = [];
  let worker: WorkerProcess | undefined;

  before(async () => {
    stack = await TestStack.start({ natsUsers: true });
  });

  after(async () => {
    await worker?.stop();
    await Promise.all(services.map((s) => s.stop()));
    await stack?.dispose();
  });

  const service = (app: string) => services.find((s) => s.app === app)!;

  it('every service boots with its own user and reports ready (NATS included)', async () => {
    const env = stack.env({
      GENESIS_LEARNING_THRESHOLD: String(THRESHOLD),
      GENESIS_TRAINING_SWEEP_INTERVAL_MS: '500',
    });
    const apps = ['gateway', 'learner', 'monitor', 'trainer-bridge', 'evaluator', 'deployer'];
    services.push(
      ...(await Promise.all(apps.map((app) => ServiceProcess.start(app, { ...env, ...stack.natsEnv(app) })))),
    );
    for (const s of services) {
      const ready = await request(s.baseUrl, '/health/ready');
      assert.equal(ready.status, 200, `${s.app}: ${ready.text}`);
    }
  });

  it('a learning flows gateway → learner → learning.stored → monitor', async () => {
    const res = await request<{ id: string }>(service('gateway').baseUrl, '/api/v1/learnings', {
      json: {
        kind: 'correction',
        source: 'permissions-test',
        language: 'python',
        context: 'def area(r):',
        model_output: '    return 3.14 * r',
        correction: '    return math.pi * r ** 2',
      },
      key: TEST_WRITER_KEY,
    });
    assert.equal(res.status, 202, res.text);
    const id = res.body.id;
    await waitFor('the learning to be stored', async () => {
      const got = await request<{ status: string }>(service('gateway').baseUrl, `/api/v1/learnings/${id}`, {
        key: TEST_ADMIN_KEY,
      });
      return got.body.status === 'accepted';
    });
    const { event: stored, seq } = await stack.lastEvent<{ learning_id: string }>(
      SUBJECTS.learningStored,
      (e) => e.data.learning_id === id,
    );
    assert.equal(stored.data.learning_id, id);
    await waitFor('the monitor to ack learning.stored', async () => {
      const info = await stack.client.jsm.consumers.info(STREAMS.events, 'monitor-learning-stored');
      return info.ack_floor.stream_seq >= seq && info.num_ack_pending === 0;
    });
  });

  it(
    'a cycle runs: monitor → trainer-bridge (snapshot, jobs.train) → trainer-worker → model.trained',
    { skip: !workerAvailable() && 'the Python worker environment is missing (npm test creates it)' },
    async () => {
      worker = new WorkerProcess({
        NATS_URL: stack.nats.url,
        ...stack.natsEnv('trainer-worker'),
        GENESIS_TRAIN_MAX_STEPS: '5',
        GENESIS_PROGRESS_INTERVAL_S: '0.2',
      }).start();
      const res = await request(service('gateway').baseUrl, '/api/v1/learnings/batch', {
        json: {
          learnings: Array.from({ length: THRESHOLD }, (_, i) => ({
            kind: 'correction',
            source: 'permissions-test',
            language: 'python',
            context: `def total_${i}(a, b):`,
            model_output: '    return a - b',
            correction: `    return a + b  # ${i}`,
          })),
        },
        key: TEST_WRITER_KEY,
      });
      assert.equal(res.status, 202, res.text);
      try {
        await waitFor(
          'a trained cycle',
          async () => {
            const rows = await stack.db.query<{ status: string }>(`SELECT status FROM improvement_cycles`);
            return rows.some((r) =>
              ['trained', 'evaluating', 'evaluated', 'deploying', 'deployed'].includes(r.status),
            );
          },
          { timeoutMs: 180_000, intervalMs: 250 },
        );
      } catch (err) {
        const cycles = await stack.db.query(`SELECT status, failure_reason FROM improvement_cycles`);
        throw new Error(
          `${(err as Error).message}\ncycles: ${JSON.stringify(cycles)}\nworker: ${worker.logs.slice(-3000)}\n` +
            `bridge: ${service('trainer-bridge').logs.slice(-3000)}\nnats: ${stack.nats.logs.slice(-3000)}`,
        );
      }
      const trained = await stack.lastEvent(SUBJECTS.modelTrained);
      assert.ok(trained, 'model.trained is on the bus');
    },
  );

  it('a learning is forgotten: gateway → learner → trainer-bridge, each as its own user', async () => {
    const gateway = service('gateway').baseUrl;
    const res = await request<{ id: string }>(gateway, '/api/v1/learnings', {
      json: { kind: 'pattern', source: 'permissions-test', correction: 'use pathlib.Path, not os.path' },
      key: TEST_WRITER_KEY,
    });
    const id = res.body.id;
    await waitFor('the learning to be stored', async () => {
      const got = await request(gateway, `/api/v1/learnings/${id}`, { key: TEST_ADMIN_KEY });
      return got.status === 200;
    });
    const forget = await request<{ status_url: string }>(gateway, `/api/v1/learnings/${id}`, {
      method: 'DELETE',
      key: TEST_ADMIN_KEY,
    });
    assert.equal(forget.status, 202, forget.text);
    await waitFor('the forget job to complete', async () => {
      const job = await request<{ status: string }>(gateway, forget.body.status_url, { key: TEST_ADMIN_KEY });
      return job.body.status === 'completed';
    });
  });

  it("each service's outbox relay publishes only the events its own service wrote", async () => {
    const deployer = service('deployer');
    await deployer.stop();
    const event = makeEnvelope(
      SUBJECTS.modelRolledBack,
      { note: 'written by the deployer' },
      {
        source: 'deployer',
        modelId: 'genesis',
      },
    );
    await stack.db.query(`INSERT INTO outbox (event_id, subject, payload) VALUES ($1, $2, $3)`, [
      event.id,
      SUBJECTS.modelRolledBack,
      JSON.stringify(event),
    ]);
    // The five other relays poll every second. None may take the row: their users cannot publish
    // model.rolled_back (a try would also leave a violation in the server log, checked below).
    await sleep(3000);
    const [row] = await stack.db.query<{ published_at: Date | null }>(
      `SELECT published_at FROM outbox WHERE event_id = $1`,
      [event.id],
    );
    assert.equal(row!.published_at, null, 'another service published the deployer’s event');
    await deployer.restart();
    await waitFor('the deployer to publish its event', async () => {
      const last = await stack.client.jsm.streams.getMessage(STREAMS.events, {
        last_by_subj: SUBJECTS.modelRolledBack,
      });
      return last?.json<{ id: string }>().id === event.id;
    });
  });

  it('nats-server logged no permission violation: the permissions cover what the code does', async () => {
    // Let every service run its periodic work (lag sampling every 10 s, the outbox relay, sweeps).
    await sleep(11_000);
    const violations = stack.nats.logs.split('\n').filter((line) => /Violation/i.test(line));
    assert.deepEqual(violations, []);
    for (const s of services) assert.ok(s.running, `${s.app} is still running`);
  });
});
