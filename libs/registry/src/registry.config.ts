import type { EnvReader } from '@genesis/config';
import { readFamiliesFile, type FamilyInput } from './families';

export interface RegistrySettings {
  /** GENESIS_MODEL_FAMILIES: families defined by configuration (JSON or YAML file); [] without one. */
  families: FamilyInput[];
  /**
   * GENESIS_MODEL_AUTO_REGISTER: a learning or trigger for an unregistered model registers it with
   * the defaults instead of being refused with 422 MODEL_NOT_REGISTERED (dev and tests only).
   */
  autoRegister: boolean;
  /** GENESIS_BACKUP_RETENTION: how many most recently deployed versions keep their artifacts. */
  backupRetention: number;
}

export const DEFAULT_BACKUP_RETENTION = 10;

/** Read at boot; a bad families file stops the service with the file and the field named. */
export function readRegistrySettings(env: EnvReader): RegistrySettings {
  const file = env.optionalStr('GENESIS_MODEL_FAMILIES');
  let families: FamilyInput[] = [];
  if (file) {
    try {
      families = readFamiliesFile(file);
    } catch (err) {
      env.fail((err as Error).message);
    }
  }
  return {
    families,
    autoRegister: env.bool('GENESIS_MODEL_AUTO_REGISTER', false),
    // At least 1: the champion's own artifact is always kept anyway, one more is the rollback target.
    backupRetention: env.int('GENESIS_BACKUP_RETENTION', DEFAULT_BACKUP_RETENTION, { min: 1, max: 10_000 }),
  };
}
