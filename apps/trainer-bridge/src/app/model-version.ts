/** Immutable version names: genesis-YYYYMMDD-HHMMSS (UTC), with -N only if that second is taken. */
export function versionName(at: Date, taken = 0): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const base = `genesis-${at.getUTCFullYear()}${p(at.getUTCMonth() + 1)}${p(at.getUTCDate())}-${p(at.getUTCHours())}${p(at.getUTCMinutes())}${p(at.getUTCSeconds())}`;
  return taken === 0 ? base : `${base}-${taken + 1}`;
}
