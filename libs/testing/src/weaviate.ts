import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { reapAtExit, stopChild } from './children';
import { freePort } from './ports';
import { waitFor } from './wait';

const run = promisify(execFile);
const REPO = resolve(__dirname, '..', '..', '..', '..');

/**
 * The pinned weaviate-server binary (tools/infra/ensure-weaviate.sh): built from the Go module proxy
 * the first time (~15 min on 2 cores; `npm test` starts that build in the background at its start),
 * then found in ~/.cache. Waits for a build that another process runs.
 */
export async function weaviateBinary(): Promise<string> {
  if (process.env['GENESIS_WEAVIATE']) return process.env['GENESIS_WEAVIATE'];
  const { stdout } = await run(join(REPO, 'tools', 'infra', 'ensure-weaviate.sh'), [], {
    timeout: 45 * 60_000,
    maxBuffer: 1 << 20,
  });
  return stdout.trim().split('\n').pop()!;
}

/**
 * A real Weaviate, private to one test file: loopback only, every port free-picked (HTTP, gRPC,
 * gossip, data, Raft), its data in a temporary folder that survives restart() like a real server,
 * and API-key authentication as in production (anonymous access off).
 */
export class TestWeaviate {
  private process?: ChildProcess;
  private output = '';
  readonly apiKey = randomBytes(16).toString('hex');

  private constructor(
    private readonly binary: string,
    readonly port: number,
    readonly grpcPort: number,
    private readonly clusterPorts: number[],
    readonly dataDir: string,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get logs(): string {
    return this.output;
  }

  static async start(): Promise<TestWeaviate> {
    const binary = await weaviateBinary();
    const ports = [];
    for (let i = 0; i < 6; i++) ports.push(await freePort());
    const server = new TestWeaviate(
      binary,
      ports[0]!,
      ports[1]!,
      ports.slice(2),
      mkdtempSync(join(tmpdir(), 'genesis-weaviate-')),
    );
    await server.boot();
    return server;
  }

  private async boot(): Promise<void> {
    const [gossip, data, raft, raftRpc] = this.clusterPorts;
    this.process = reapAtExit(
      spawn(this.binary, ['--host', '127.0.0.1', '--port', String(this.port), '--scheme', 'http'], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          PATH: process.env['PATH'] ?? '/usr/bin:/bin',
          PERSISTENCE_DATA_PATH: this.dataDir,
          DEFAULT_VECTORIZER_MODULE: 'none',
          ENABLE_MODULES: '',
          CLUSTER_HOSTNAME: 'node1',
          // Without the advertise address it picks an IPv6 interface and exits.
          CLUSTER_ADVERTISE_ADDR: '127.0.0.1',
          CLUSTER_BIND_ADDR: '127.0.0.1',
          CLUSTER_GOSSIP_BIND_PORT: String(gossip),
          CLUSTER_DATA_BIND_PORT: String(data),
          RAFT_PORT: String(raft),
          RAFT_INTERNAL_RPC_PORT: String(raftRpc),
          RAFT_BOOTSTRAP_EXPECT: '1',
          GRPC_PORT: String(this.grpcPort),
          AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED: 'false',
          AUTHENTICATION_APIKEY_ENABLED: 'true',
          AUTHENTICATION_APIKEY_ALLOWED_KEYS: this.apiKey,
          AUTHENTICATION_APIKEY_USERS: 'genesis',
          DISABLE_TELEMETRY: 'true',
          LOG_LEVEL: 'warning',
          QUERY_DEFAULTS_LIMIT: '25',
          GOMAXPROCS: '2',
        },
      }),
    );
    const keep = (chunk: Buffer) => (this.output = (this.output + chunk.toString()).slice(-100_000));
    this.process.stdout?.on('data', keep);
    this.process.stderr?.on('data', keep);
    const exited = new Promise<never>((_, reject) =>
      this.process!.once('exit', (code) =>
        reject(new Error(`weaviate-server exited (${code}): ${this.output.slice(-4000)}`)),
      ),
    );
    exited.catch(() => undefined);
    await Promise.race([
      waitFor(
        `weaviate on ${this.port}`,
        async () => {
          const res = await fetch(`${this.url}/v1/.well-known/ready`).catch(() => undefined);
          return res?.ok === true;
        },
        { timeoutMs: 120_000 },
      ),
      exited,
    ]);
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.process) await stopChild(this.process, 'weaviate-server', signal);
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.boot();
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
