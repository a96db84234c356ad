import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { STREAMS, SUBJECTS, makeEnvelope } from '@genesis/contracts';
import {
  ServiceProcess,
  TEST_ADMIN_KEY,
  TEST_WRITER_KEY,
  TestStack,
  request,
  waitFor,
} from '@genesis/testing';

interface Frame {
  event: string;
  id?: string;
  data?: string;
  comment?: string;
}

/** A GET /api/v1/events connection that collects what arrives, frame by frame. */
class EventStream {
  readonly frames: Frame[] = [];
  /** Resolves when the server ended the response (or the connection broke). */
  ended: Promise<void> = Promise.resolve();
  private constructor(
    readonly response: Response,
    private readonly controller: AbortController,
  ) {}

  static async open(baseUrl: string, query = '', headers: Record<string, string> = {}): Promise<EventStream> {
    const controller = new AbortController();
    const res = await fetch(`${baseUrl}/api/v1/events${query}`, {
      headers: { authorization: `Bearer ${TEST_ADMIN_KEY}`, ...headers },
      signal: controller.signal,
    });
    const stream = new EventStream(res, controller);
    if (res.ok) stream.ended = stream.read();
    return stream;
  }

  private async read(): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of this.response.body as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) !== -1) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const frame: Frame = { event: 'message' };
          for (const line of block.split('\n')) {
            const [field, ...rest] = line.split(': ');
            const value = rest.join(': ');
            if (field === '') frame.comment = line.slice(2);
            else if (field === 'event') frame.event = value;
            else if (field === 'id') frame.id = value;
            else if (field === 'data') frame.data = value;
            else if (field === 'retry') frame.event = 'retry';
          }
          this.frames.push(frame);
        }
      }
    } catch {
      // aborted by close()
    }
  }

  envelopes(): { id: string; seq: number; type: string; data: Record<string, unknown> }[] {
    return this.frames
      .filter((f) => f.event === 'message' && f.data && !f.comment)
      .map((f) => ({
        ...(JSON.parse(f.data!) as { id: string; type: string; data: Record<string, unknown> }),
        seq: Number(f.id),
      }));
  }

  has(event: string): boolean {
    return this.frames.some((f) => f.event === event);
  }

  close(): void {
    this.controller.abort();
  }
}

describe('GET /api/v1/events: the bus as Server-Sent Events', () => {
  let stack: TestStack;
  let gateway: ServiceProcess;
  const streams: EventStream[] = [];
  const open = async (query = '', headers: Record<string, string> = {}) => {
    const s = await EventStream.open(gateway.baseUrl, query, headers);
    streams.push(s);
    return s;
  };
  const publish = async (subject: string, data: Record<string, unknown>) => {
    const envelope = makeEnvelope(subject, data, { source: 'test', modelId: 'genesis' });
    const ack = await stack.client.js.publish(subject, JSON.stringify(envelope), { msgID: envelope.id });
    return { id: envelope.id, seq: ack.seq };
  };
  const eventConsumers = async () => {
    const names: string[] = [];
    for await (const c of stack.client.jsm.consumers.list(STREAMS.events)) names.push(c.name);
    return names.filter((n) => n.startsWith('gateway_events_'));
  };

  before(async () => {
    stack = await TestStack.start();
    gateway = await ServiceProcess.start(
      'gateway',
      stack.env({ GENESIS_EVENTS_HEARTBEAT_MS: '500', GENESIS_EVENTS_MAX_STREAMS: '4' }),
    );
  });

  after(async () => {
    for (const s of streams) s.close();
    await gateway?.stop();
    await stack?.dispose();
  });

  it('refuses without a key, without the scope, and with a bad filter, as problem+json', async () => {
    const none = await request(gateway.baseUrl, '/api/v1/events');
    assert.equal(none.status, 401);
    const writer = await request(gateway.baseUrl, '/api/v1/events', { key: TEST_WRITER_KEY });
    assert.equal(writer.status, 403);
    assert.equal(writer.body['code'], 'FORBIDDEN');
    for (const bad of [
      'subject=jobs.%3E',
      'subject=model.deploy',
      'subject=a.b.c',
      'subject=model',
      'since=yesterday',
      'since=2999-01-01T00:00:00Z',
    ]) {
      const res = await request(gateway.baseUrl, `/api/v1/events?${bad}`, { key: TEST_ADMIN_KEY });
      assert.equal(res.status, 400, bad);
      assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/);
      assert.equal(res.body['code'], 'INVALID_QUERY', bad);
    }
    const badResume = await request(gateway.baseUrl, '/api/v1/events', {
      key: TEST_ADMIN_KEY,
      headers: { 'last-event-id': 'abc' },
    });
    assert.equal(badResume.status, 400);
  });

  it('streams new events matching the filter, each with its stream sequence as id', async () => {
    const s = await open('?subject=model.%3E');
    assert.equal(s.response.status, 200);
    assert.match(s.response.headers.get('content-type') ?? '', /^text\/event-stream/);
    await waitFor('ready and caught_up', () => s.has('ready') && s.has('caught_up'));
    await publish(SUBJECTS.learningStored, { learning_id: 'not-for-this-filter' });
    const deployed = await publish(SUBJECTS.modelDeployed, { model_version: 'genesis-20260101-000000' });
    const [got] = await waitFor('model.deployed', () => (s.envelopes().length ? s.envelopes() : undefined));
    assert.equal(got!.id, deployed.id);
    assert.equal(got!.seq, deployed.seq);
    assert.equal(got!.type, 'model.deployed');
    assert.equal(s.envelopes().length, 1, 'the learning event did not match model.>');
  });

  it('replays the backlog from ?since=, then says caught_up; a bare stream starts at new events', async () => {
    const marker = `backlog-${Date.now()}`;
    for (let i = 0; i < 3; i++) await publish(SUBJECTS.cycleFailed, { marker, i });
    const replay = await open('?subject=cycle.failed&since=1m');
    await waitFor('caught_up', () => replay.has('caught_up'));
    const seen = replay.envelopes().filter((e) => e.data['marker'] === marker);
    assert.deepEqual(
      seen.map((e) => e.data['i']),
      [0, 1, 2],
    );
    const caughtUpAt = replay.frames.findIndex((f) => f.event === 'caught_up');
    const lastEventAt = replay.frames.findLastIndex((f) => f.event === 'message' && !f.comment);
    assert.ok(caughtUpAt > lastEventAt, 'caught_up follows the backlog');

    const fresh = await open('?subject=cycle.failed');
    await waitFor('ready', () => fresh.has('caught_up'));
    assert.equal(fresh.envelopes().length, 0, 'no history without since');
  });

  it('resumes after Last-Event-ID and sends heartbeats while idle', async () => {
    const first = await publish(SUBJECTS.trainingFailed, { n: 1 });
    const second = await publish(SUBJECTS.trainingFailed, { n: 2 });
    const s = await open('?subject=training.failed', { 'last-event-id': String(first.seq) });
    await waitFor('the event after Last-Event-ID', () => s.envelopes().length === 1);
    assert.equal(s.envelopes()[0]!.id, second.id);
    await waitFor('a heartbeat', () => s.frames.some((f) => f.comment === 'heartbeat'), { timeoutMs: 3000 });
  });

  it('deletes its consumer when the client goes away, and bounds the open streams', async () => {
    for (const s of streams.splice(0)) s.close();
    await waitFor('no event-stream consumers left', async () => (await eventConsumers()).length === 0);
    const held = await Promise.all([1, 2, 3, 4].map(() => open()));
    await waitFor('4 consumers', async () => (await eventConsumers()).length === 4);
    const fifth = await request(gateway.baseUrl, '/api/v1/events', { key: TEST_ADMIN_KEY });
    assert.equal(fifth.status, 503);
    assert.equal(fifth.body['code'], 'TOO_MANY_EVENT_STREAMS');
    held[0]!.close();
    await waitFor('a slot again', async () => (await open()).response.status === 200);
    for (const s of streams.splice(0)) s.close();
  });

  it('ends open streams when the gateway shuts down, so the shutdown does not wait for them', async () => {
    const s = await open();
    await waitFor('ready', () => s.has('ready'));
    const started = Date.now();
    const stopped = gateway.stop();
    await s.ended;
    assert.ok(Date.now() - started < 3000, `the stream ended ${Date.now() - started} ms after SIGTERM`);
    await stopped;
  });
});
