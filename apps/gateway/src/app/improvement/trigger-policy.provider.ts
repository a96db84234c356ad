import { readConfig } from '@genesis/config';
import { readTriggerPolicy, type TriggerPolicy } from '@genesis/cycles';

export const TRIGGER_POLICY = Symbol('TRIGGER_POLICY');

/**
 * The same GENESIS_* thresholds the monitor reads, for computing the status when the monitor's
 * cache is empty. A bad value fails the gateway's boot with the setting named.
 */
export const triggerPolicyProvider = {
  provide: TRIGGER_POLICY,
  useFactory: (): TriggerPolicy => readConfig(readTriggerPolicy),
};
