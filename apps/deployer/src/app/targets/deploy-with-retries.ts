import { setTimeout as sleep } from 'node:timers/promises';
import type { Log } from '@genesis/observability';
import type { DeployerConfig } from '../deployer.config';
import { DeploymentError, type DeployableVersion, type DeploymentTarget } from './deployment-target';

export type DeployOutcome = { ok: true; servedAs: string } | { ok: false; message: string };

/** Deploys with a bounded number of attempts; the last error (or a non-retryable one) is the outcome. */
export async function deployWithRetries(
  target: DeploymentTarget,
  version: DeployableVersion,
  config: Pick<DeployerConfig, 'attempts' | 'retryDelayMs'>,
  log: Log,
): Promise<DeployOutcome> {
  let last = '';
  for (let attempt = 1; attempt <= config.attempts; attempt++) {
    try {
      return { ok: true, ...(await target.deploy(version)) };
    } catch (err) {
      last = (err as Error).message;
      const retryable = !(err instanceof DeploymentError) || err.retryable;
      log.warn('deployment attempt failed', {
        version: version.version,
        target: target.name,
        attempt,
        retryable,
        error: last,
      });
      if (!retryable) return { ok: false, message: `${target.name}: ${last}` };
      if (attempt < config.attempts) await sleep(config.retryDelayMs * attempt);
    }
  }
  return { ok: false, message: `${target.name}: ${last} (after ${config.attempts} attempts)` };
}
