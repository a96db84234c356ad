import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { NATS_USERS, natsPasswordVariable } from '@genesis/messaging';
import { TestNatsServer } from './nats-server';

const REPO = join(__dirname, '..', '..', '..', '..');

/** The server config that npm start and docker-compose use: JetStream + deploy/nats/auth.conf. */
export const NATS_SERVER_CONF = join(REPO, 'deploy', 'nats', 'nats-server.conf');

/**
 * One fresh password per NATS user (letters and digits, starting with a letter, as auth.conf
 * requires), and the environment each side needs.
 */
export class NatsUsers {
  readonly passwords: Readonly<Record<string, string>>;

  constructor() {
    this.passwords = Object.fromEntries(
      NATS_USERS.map(({ user }) => [user, `p${randomBytes(18).toString('hex')}`]),
    );
  }

  /** nats-server's environment: NATS_<USER>_PASSWORD for every user. */
  serverEnv(): Record<string, string> {
    return Object.fromEntries(
      Object.entries(this.passwords).map(([user, password]) => [natsPasswordVariable(user), password]),
    );
  }

  /** What a process logs in with. */
  auth(user: string): { user: string; password: string } {
    const password = this.passwords[user];
    if (!password) throw new Error(`no NATS user ${user} in deploy/nats/auth.conf`);
    return { user, password };
  }

  /** The environment of a service (or the worker) that logs in as `user`. */
  env(user: string): Record<string, string> {
    const { password } = this.auth(user);
    return { NATS_USER: user, NATS_PASSWORD: password };
  }

  /** A nats-server with the real config (deploy/nats/nats-server.conf) and these passwords. */
  startServer(): Promise<TestNatsServer> {
    return TestNatsServer.start({ configFile: NATS_SERVER_CONF, env: this.serverEnv() });
  }
}
