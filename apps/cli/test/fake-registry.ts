import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Recorded {
  method: string;
  url: string;
  authorization?: string;
  body?: unknown;
}

/**
 * A stand-in for the registry endpoints of the gateway (GET /api/v1/models, /models/{version},
 * POST /models/rollback, GET /models/rollbacks/{id}) exactly as documented, so the CLI's client
 * behaviour (formatting, polling, exit codes) is tested before those endpoints are merged.
 */
export class FakeRegistry {
  readonly requests: Recorded[] = [];
  /** What the rollback status answers on each poll (the last one repeats). */
  rollbackStatuses: Record<string, unknown>[] = [];
  /** Answer every request with this problem instead (e.g. 403). */
  refuse?: { status: number; problem: Record<string, unknown> };
  private polls = 0;
  private server?: Server;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    await new Promise((resolve) => this.server?.close(resolve));
  }

  reset(statuses: Record<string, unknown>[] = []): void {
    this.requests.length = 0;
    this.rollbackStatuses = statuses;
    this.refuse = undefined;
    this.polls = 0;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let text = '';
    for await (const chunk of req) text += String(chunk);
    const url = new URL(req.url ?? '/', 'http://x');
    this.requests.push({
      method: req.method ?? '',
      url: req.url ?? '',
      authorization: req.headers.authorization,
      body: text ? (JSON.parse(text) as unknown) : undefined,
    });
    const send = (status: number, body: unknown, type = 'application/json') => {
      res.writeHead(status, { 'content-type': type });
      res.end(JSON.stringify(body));
    };
    if (this.refuse) return send(this.refuse.status, this.refuse.problem, 'application/problem+json');
    if (req.method === 'GET' && url.pathname === '/api/v1/models') return send(200, MODELS);
    const version = /^\/api\/v1\/models\/(genesis-[\d-]+)$/.exec(url.pathname)?.[1];
    if (req.method === 'GET' && version === CHAMPION.version) return send(200, CHAMPION_DETAIL);
    if (req.method === 'POST' && url.pathname === '/api/v1/models/rollback') {
      return send(202, {
        request_id: ROLLBACK_ID,
        model_id: 'genesis',
        status_url: `/api/v1/models/rollbacks/${ROLLBACK_ID}`,
      });
    }
    if (req.method === 'GET' && url.pathname === `/api/v1/models/rollbacks/${ROLLBACK_ID}`) {
      const answer = this.rollbackStatuses[Math.min(this.polls++, this.rollbackStatuses.length - 1)];
      return send(200, answer);
    }
    send(
      404,
      { status: 404, code: 'ROUTE_NOT_FOUND', title: 'Not found', detail: `no route ${url.pathname}` },
      'application/problem+json',
    );
  }
}

export const ROLLBACK_ID = '0196f0b1-0000-7000-8000-00000000abcd';

export const CHAMPION = {
  version: 'genesis-20261121-190000',
  model_id: 'genesis',
  status: 'champion',
  base_model: 'tiny',
  parent_version: 'genesis-20261101-100000',
  cycle_id: '0196f0b1-0000-7000-8000-00000000c002',
  created_at: '2026-11-21T19:00:00.000Z',
  metrics: { accuracy: 0.93, bleu: 0.41 },
};

const PREVIOUS = {
  version: 'genesis-20261101-100000',
  model_id: 'genesis',
  status: 'retired',
  base_model: 'tiny',
  parent_version: null,
  cycle_id: '0196f0b1-0000-7000-8000-00000000c001',
  created_at: '2026-11-01T10:00:00.000Z',
  metrics: { accuracy: 0.9 },
};

export const MODELS = { items: [CHAMPION, PREVIOUS], champion: CHAMPION.version, next_cursor: null };

export const CHAMPION_DETAIL = {
  ...CHAMPION,
  // The shape GET /api/v1/models/{version} answers (checked against the real gateway in cli.test.ts).
  lineage: {
    snapshot: {
      id: '0196f0b1-0000-7000-8000-0000000000a1',
      sha256: 'ab'.repeat(32),
      train_records: 120,
      replay_records: 0,
      eval_records: 20,
    },
    learning_ids: ['0196f0b1-0000-7000-8000-000000000001', '0196f0b1-0000-7000-8000-000000000002'],
    parent_version: PREVIOUS.version,
    base_model: 'tiny',
    cycle_id: CHAMPION.cycle_id,
    training_job_id: '0196f0b1-0000-7000-8000-0000000000b1',
  },
  evaluation: {
    decision: 'promote',
    reason: 'accuracy +0.03 (p=0.004)',
    p_value: 0.004,
    metrics: { accuracy: { champion: 0.9, candidate: 0.93 } },
  },
  alias_history: [
    {
      alias: 'champion',
      model_id: 'genesis',
      from_version: PREVIOUS.version,
      to_version: CHAMPION.version,
      moved_at: '2026-11-21T19:05:00.000Z',
      actor: 'deployer',
      reason: 'promoted by evaluation',
      kind: 'promotion',
    },
  ],
};
