import { connect, type Socket } from 'node:net';

interface Exchange {
  resolve: (r: { status: number; text: string }) => void;
  reject: (err: Error) => void;
}

/** One keep-alive HTTP/1.1 connection that sends a request only when the previous one finished. */
class Connection {
  private buffer: Buffer = Buffer.alloc(0);
  private current?: Exchange;
  readonly ready: Promise<void>;
  private readonly socket: Socket;

  constructor(
    host: string,
    port: number,
    private readonly onIdle: (c: Connection) => void,
  ) {
    this.socket = connect({ host, port, noDelay: true });
    this.ready = new Promise((resolve, reject) => {
      this.socket.once('connect', resolve);
      this.socket.once('error', reject);
    });
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('error', (err) => this.current?.reject(err));
  }

  send(request: Buffer, exchange: Exchange): void {
    this.current = exchange;
    this.socket.write(request);
  }

  private onData(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const headerEnd = this.buffer.indexOf('\r\n\r\n');
    if (headerEnd < 0) return;
    const head = this.buffer.subarray(0, headerEnd).toString('latin1');
    const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
    if (this.buffer.length < headerEnd + 4 + length) return;
    const status = Number(head.slice(9, 12));
    const text = this.buffer.subarray(headerEnd + 4, headerEnd + 4 + length).toString();
    this.buffer = this.buffer.subarray(headerEnd + 4 + length);
    const exchange = this.current!;
    this.current = undefined;
    this.onIdle(this);
    exchange.resolve({ status, text });
  }

  close(): void {
    this.socket.destroy();
  }
}

/**
 * The load generator's HTTP client: keep-alive HTTP/1.1 over plain sockets, one request at a time
 * per connection, a new connection when all are busy. It shares the machine's cores with the
 * services it measures, and Node's own HTTP client cost several times the CPU per request
 * (fetch even more), which the services then lacked. Responses must carry Content-Length
 * (Fastify's do).
 */
export class LoadClient {
  private readonly idle: Connection[] = [];
  private readonly all: Connection[] = [];
  private readonly host: string;
  private readonly port: number;

  constructor(
    baseUrl: string,
    private readonly apiKey: string,
  ) {
    const url = new URL(baseUrl);
    this.host = url.hostname;
    this.port = Number(url.port);
  }

  /** Opens `n` connections ahead of time, as a fleet of long-lived clients would have. */
  async open(n: number): Promise<void> {
    const opened = Array.from({ length: n }, () => this.connection());
    await Promise.all(opened.map((c) => c.ready));
    this.idle.push(...opened);
  }

  /** POSTs a JSON body; resolves with the status and the response text. */
  async post(path: string, json: unknown): Promise<{ status: number; text: string }> {
    const body = Buffer.from(JSON.stringify(json));
    const head = Buffer.from(
      `POST ${path} HTTP/1.1\r\nhost: ${this.host}:${this.port}\r\nauthorization: Bearer ${this.apiKey}\r\n` +
        `content-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`,
      'latin1',
    );
    let c = this.idle.pop();
    if (!c) {
      c = this.connection();
      await c.ready;
    }
    const conn = c;
    return new Promise((resolve, reject) => conn.send(Buffer.concat([head, body]), { resolve, reject }));
  }

  private connection(): Connection {
    const c = new Connection(this.host, this.port, (idle) => this.idle.push(idle));
    this.all.push(c);
    return c;
  }

  close(): void {
    for (const c of this.all) c.close();
  }
}
