import { modelVersionName } from '@genesis/contracts';

/**
 * Immutable version names: <model_id>-YYYYMMDD-HHMMSS (UTC), with -N only if that second is taken
 * for the model (libs/contracts model-version.ts).
 */
export function versionName(modelId: string, at: Date, taken = 0): string {
  return modelVersionName(modelId, at, taken);
}
