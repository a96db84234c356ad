import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';

export interface RecordedCall {
  method: string;
  path: string;
  status: number;
  body: unknown;
}

type Route = (req: IncomingMessage, body: Buffer) => { status: number; json?: unknown };

/**
 * A small HTTP server implementing only the documented endpoints of a serving engine; anything
 * else is answered 404 and recorded as unexpected, so a test sees a client that strays from the API.
 * `failNext(n)` makes the next n calls answer 500 (a target that is down).
 */
abstract class FakeServingServer {
  readonly calls: RecordedCall[] = [];
  readonly unexpected: string[] = [];
  private failures = 0;
  private server?: Server;
  url = '';

  protected abstract route(method: string, path: string): Route | undefined;

  failNext(n: number): void {
    this.failures = n;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const path = (req.url ?? '/').split('?')[0]!;
        const route = this.route(req.method ?? 'GET', path);
        let answer: { status: number; json?: unknown };
        if (!route) {
          this.unexpected.push(`${req.method} ${path}`);
          answer = { status: 404, json: { error: `not a documented endpoint: ${req.method} ${path}` } };
        } else if (this.failures > 0) {
          this.failures--;
          answer = { status: 500, json: { error: 'injected failure' } };
        } else {
          try {
            answer = route(req, body);
          } catch (err) {
            answer = { status: 400, json: { error: (err as Error).message } };
          }
        }
        let parsed: unknown = body.length;
        if (req.headers['content-type']?.includes('json')) {
          try {
            parsed = JSON.parse(body.toString('utf8'));
          } catch {
            parsed = body.toString('utf8');
          }
        }
        this.calls.push({ method: req.method ?? 'GET', path, status: answer.status, body: parsed });
        res.writeHead(answer.status, { 'content-type': 'application/json' });
        res.end(answer.json === undefined ? '' : JSON.stringify(answer.json));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    await new Promise((resolve) => this.server?.close(resolve));
  }
}

const json = (body: Buffer) => JSON.parse(body.toString('utf8')) as Record<string, unknown>;

/** vLLM's runtime LoRA endpoints (`/v1/load_lora_adapter`, `/v1/unload_lora_adapter`, `/v1/models`). */
export class FakeOpenAiLoraServer extends FakeServingServer {
  readonly loaded = new Map<string, string>();

  protected route(method: string, path: string): Route | undefined {
    if (method === 'POST' && path === '/v1/load_lora_adapter')
      return (_req, body) => {
        const { lora_name: name, lora_path: path } = json(body);
        if (typeof name !== 'string' || typeof path !== 'string')
          throw new Error('lora_name and lora_path are required');
        if (this.loaded.has(name))
          return { status: 400, json: { error: `The lora adapter '${name}' has already been loaded.` } };
        if (
          !existsSync(join(path, 'adapter_config.json')) ||
          !existsSync(join(path, 'adapter_model.safetensors'))
        )
          return { status: 404, json: { error: `no adapter at ${path}` } };
        this.loaded.set(name, path);
        return { status: 200, json: `Success: LoRA adapter '${name}' added successfully.` };
      };
    if (method === 'POST' && path === '/v1/unload_lora_adapter')
      return (_req, body) => {
        const { lora_name: name } = json(body);
        if (typeof name !== 'string' || !this.loaded.delete(name))
          return { status: 404, json: { error: `The lora adapter '${String(name)}' cannot be found.` } };
        return { status: 200, json: `Success: LoRA adapter '${name}' removed successfully.` };
      };
    if (method === 'GET' && path === '/v1/models')
      return () => ({ status: 200, json: { data: [...this.loaded.keys()].map((id) => ({ id })) } });
    return undefined;
  }
}

/** Ollama's blob, create and copy endpoints. */
export class FakeOllamaServer extends FakeServingServer {
  readonly blobs = new Map<string, number>();
  readonly models = new Map<string, { from: string; adapters: Record<string, string> }>();

  protected route(method: string, path: string): Route | undefined {
    const blob = /^\/api\/blobs\/(sha256:[0-9a-f]{64})$/.exec(path);
    if (blob && method === 'HEAD') return () => ({ status: this.blobs.has(blob[1]!) ? 200 : 404 });
    if (blob && method === 'POST')
      return (_req, body) => {
        const digest = `sha256:${createHash('sha256').update(body).digest('hex')}`;
        if (digest !== blob[1]) return { status: 400, json: { error: 'digest mismatch' } };
        this.blobs.set(digest, body.length);
        return { status: 201 };
      };
    if (method === 'POST' && path === '/api/create')
      return (_req, body) => {
        const { model, from, adapters } = json(body) as {
          model?: string;
          from?: string;
          adapters?: Record<string, string>;
        };
        if (!model || !from) throw new Error('model and from are required');
        for (const digest of Object.values(adapters ?? {}))
          if (!this.blobs.has(digest)) return { status: 400, json: { error: `blob ${digest} not found` } };
        this.models.set(model, { from, adapters: adapters ?? {} });
        return { status: 200, json: { status: 'success' } };
      };
    if (method === 'POST' && path === '/api/copy')
      return (_req, body) => {
        const { source, destination } = json(body) as { source?: string; destination?: string };
        const m = source ? this.models.get(source) : undefined;
        if (!m || !destination)
          return { status: 404, json: { error: `model '${String(source)}' not found` } };
        this.models.set(destination, m);
        return { status: 200 };
      };
    return undefined;
  }
}
