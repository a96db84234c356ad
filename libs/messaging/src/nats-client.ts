import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import type { Log } from '@genesis/observability';
import { AckedPublisher } from './acked-publisher';
import { natsInboxPrefix } from './nats-permissions';

export interface NatsClientOptions {
  url: string;
  name: string;
  log: Log;
  /** Log in as this user (NATS_USER / NATS_PASSWORD); without it, the URL's own credentials, if any. */
  auth?: { user: string; password: string };
}

/**
 * One NATS connection per process. It reconnects forever (a NATS restart must not take the
 * service down), and waits for the first connection so pods may start before the server.
 */
export class NatsClient {
  /** JetStream publish with ack for the service's events (see AckedPublisher). */
  readonly publisher: AckedPublisher;

  private constructor(
    readonly connection: NatsConnection,
    readonly js: JetStreamClient,
    readonly jsm: JetStreamManager,
    inboxPrefix: string,
  ) {
    this.publisher = new AckedPublisher(connection, inboxPrefix, 5000);
  }

  static async connect({ url, name, log, auth }: NatsClientOptions): Promise<NatsClient> {
    const u = new URL(url);
    const user = auth?.user ?? (u.username ? decodeURIComponent(u.username) : undefined);
    const pass = auth?.password ?? (u.password ? decodeURIComponent(u.password) : undefined);
    // A user may subscribe only to its own replies (deploy/nats/auth.conf).
    const inboxPrefix = user && /^[A-Za-z0-9_-]+$/.test(user) ? natsInboxPrefix(user) : '_INBOX';
    const connection = await connect({
      servers: `${u.hostname}:${u.port || 4222}`,
      name,
      user,
      pass,
      inboxPrefix,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      waitOnFirstConnect: true,
      timeout: 5000,
      // Without it every request (each JetStream publish) builds two Error objects for stack traces:
      // measured at ~15% of the gateway's and the learner's CPU under load. Our logs carry the context.
      noAsyncTraces: true,
    });
    void (async () => {
      for await (const s of connection.status()) {
        if (s.type === 'disconnect' || s.type === 'reconnect' || s.type === 'error') {
          log.warn(`nats ${s.type}`, {
            server: 'server' in s ? s.server : undefined,
            // e.g. an authorization or permission violation
            error: 'error' in s ? s.error.message : undefined,
          });
        }
      }
    })();
    const jsm = await jetstreamManager(connection, { timeout: 5000 });
    return new NatsClient(connection, jetstream(connection, { timeout: 5000 }), jsm, inboxPrefix);
  }

  get isConnected(): boolean {
    return !this.connection.isClosed() && !this.connection.isDraining() && this.connection.getServer() !== '';
  }

  /** Readiness: a round trip to the server and the JetStream API. */
  async ping(): Promise<void> {
    await this.connection.flush();
    await this.jsm.getAccountInfo();
  }

  async drain(): Promise<void> {
    this.publisher.close();
    if (!this.connection.isClosed()) await this.connection.drain();
  }
}

/** Readiness check for the health endpoint. */
export function natsReadiness(nats: NatsClient) {
  return { name: 'nats', check: () => nats.ping() };
}
