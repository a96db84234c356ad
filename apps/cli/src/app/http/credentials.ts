import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

export interface ApiKeyChoice {
  key?: string;
  /** Where it came from: "--api-key", "GENESIS_API_KEY" or the key file's path. */
  source?: string;
}

export interface KeySources {
  flag?: string;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** The checkout this CLI runs from (its .genesis/admin.key is where `npm start` writes one). */
  installRoot: string;
}

/**
 * The API key: --api-key, else GENESIS_API_KEY, else the admin key `npm start` keeps in
 * $GENESIS_HOME/admin.key — GENESIS_HOME when set, else the nearest .genesis/ from the current
 * folder upwards, else the checkout the CLI was built in.
 */
export function resolveApiKey({ flag, env, cwd, installRoot }: KeySources): ApiKeyChoice {
  if (flag) return { key: flag, source: '--api-key' };
  const fromEnv = env['GENESIS_API_KEY']?.trim();
  if (fromEnv) return { key: fromEnv, source: 'GENESIS_API_KEY' };
  for (const file of keyFileCandidates(env, cwd, installRoot)) {
    const key = readKey(file);
    if (key) return { key, source: file };
  }
  return {};
}

function keyFileCandidates(env: NodeJS.ProcessEnv, cwd: string, installRoot: string): string[] {
  const home = env['GENESIS_HOME']?.trim();
  if (home) return [join(resolve(cwd, home), 'admin.key')];
  const files: string[] = [];
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    files.push(join(dir, '.genesis', 'admin.key'));
    if (dirname(dir) === dir) break;
  }
  files.push(join(installRoot, '.genesis', 'admin.key'));
  return files;
}

function readKey(file: string): string | undefined {
  try {
    if (!existsSync(file)) return undefined;
    return readFileSync(file, 'utf8').split('\n')[0]?.trim() || undefined;
  } catch {
    return undefined; // unreadable (permissions): as if absent
  }
}
