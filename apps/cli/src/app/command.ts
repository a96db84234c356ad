import type { ApiClient } from './http/api-client';
import type { ExitCode } from './exit-codes';
import type { Output } from './output/output';

export type Scope = 'learnings:write' | 'status:read' | 'admin';

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** The value's name in help (`--model-id M`). */
  value?: string;
  description: string;
}

export type Values = Record<string, string | boolean | undefined>;

export interface Args {
  values: Values;
  positionals: string[];
}

/** What a command runs with: the API client, where to write, Ctrl-C, and the process's surroundings. */
export interface Context {
  api: ApiClient;
  out: Output;
  /** Aborted on the first Ctrl-C. */
  signal: AbortSignal;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export type Run = (ctx: Context, args: Args) => Promise<ExitCode>;

export interface CommandSpec {
  /** `status`, `learnings import`, `models show`. */
  path: string;
  /** The positional arguments in the usage line, e.g. `FILE.jsonl` or `[ID]`. */
  operands?: string;
  args: { min: number; max: number };
  summary: string;
  /** More help text, printed under the options. */
  description?: string;
  options: Record<string, OptionSpec>;
  /** The scope the command's requests need (named in 403 messages). */
  scope?: Scope;
  /** Loaded only when the command runs, so `genesis status` does not load the import's validators. */
  load: () => Promise<{ run: Run }>;
}

export const MODEL_ID_OPTION: OptionSpec = {
  type: 'string',
  value: 'M',
  description: 'the model (default: the gateway\'s default, "genesis")',
};
