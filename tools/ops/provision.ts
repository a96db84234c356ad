/**
 * Creates or updates the JetStream streams and durable consumers (npm run provision; a Job in k8s).
 * Services never create them at boot: one declared topology, applied once.
 */
import { loadConfigOrExit, readInfraConfig, readTopologyConfig } from '@genesis/config';
import { Log } from '@genesis/observability';
import { NatsClient, provisionTopology } from '@genesis/messaging';

async function main(): Promise<void> {
  const log = new Log('provision');
  // Provisioning creates streams and consumers: with per-service users it logs in as `ops`.
  const { natsUrl, natsAuth, topology } = loadConfigOrExit('provision', (env) => ({
    ...readInfraConfig(env, 'ops'),
    topology: readTopologyConfig(env),
  }));
  const nats = await NatsClient.connect({ url: natsUrl, name: 'genesis-provision', log, auth: natsAuth });
  try {
    await provisionTopology(nats, log, topology);
  } finally {
    await nats.drain();
  }
}

main().catch((err: Error) => {
  process.stderr.write(`[genesis:provision] failed: ${err.message}\n`);
  process.exit(1);
});
