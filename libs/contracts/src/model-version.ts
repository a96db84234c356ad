/**
 * Model version names: `<model_id>-YYYYMMDD-HHMMSS` (UTC), with `-N` only when that second is
 * already taken for the model. A name carries its model, so versions of different models never
 * look alike; the default model `genesis` keeps the `genesis-…` names it always had, and names
 * registered before the model prefix (every model was `genesis-…` then) still match.
 */
export const MODEL_VERSION_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}-[0-9]{8}-[0-9]{6}(-[0-9]+)?$/;

/** The immutable name of a version of `modelId` registered at `at`; `taken` names already used that second. */
export function modelVersionName(modelId: string, at: Date, taken = 0): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const stamp =
    `${at.getUTCFullYear()}${p(at.getUTCMonth() + 1)}${p(at.getUTCDate())}-` +
    `${p(at.getUTCHours())}${p(at.getUTCMinutes())}${p(at.getUTCSeconds())}`;
  const base = `${modelId}-${stamp}`;
  return taken === 0 ? base : `${base}-${taken + 1}`;
}
