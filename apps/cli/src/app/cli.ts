import { parseArgs, type ParseArgsConfig } from 'node:util';
import { join } from 'node:path';
import type { Args, CommandSpec, Context, OptionSpec } from './command';
import { COMMANDS, GLOBAL_OPTIONS } from './commands';
import { CliError, UsageError } from './errors';
import { EXIT, type ExitCode } from './exit-codes';
import { commandHelp, generalHelp } from './help';
import { ApiClient } from './http/api-client';
import { resolveApiKey } from './http/credentials';
import { Output, type Stream } from './output/output';

const DEFAULT_URL = 'http://127.0.0.1:8000';
const REQUEST_TIMEOUT_MS = 30_000;
/** dist/apps/cli/src/app → the checkout (where `npm start` keeps .genesis/admin.key). */
const INSTALL_ROOT = join(__dirname, '..', '..', '..', '..', '..');

export interface Io {
  stdout: Stream;
  stderr: Stream;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Aborted on Ctrl-C. */
  signal: AbortSignal;
}

/** Runs one command line; resolves with the exit status. */
export async function main(argv: string[], io: Io = processIo()): Promise<ExitCode> {
  const jsonWanted = argv.includes('--json');
  const out = new Output(io.stdout, io.stderr, jsonWanted, io.env);
  try {
    return await dispatch(argv, io, out);
  } catch (err) {
    return report(err, out);
  }
}

async function dispatch(argv: string[], io: Io, out: Output): Promise<ExitCode> {
  const words = leadingWords(argv);
  if (words[0] === 'help') {
    const spec = findCommand(words.slice(1));
    io.stdout.write(spec ? commandHelp(spec.command) : generalHelp());
    return EXIT.ok;
  }
  if (words.length === 0) {
    if (argv.includes('--help') || argv.includes('-h')) {
      io.stdout.write(generalHelp());
      return EXIT.ok;
    }
    io.stderr.write(generalHelp());
    return EXIT.usage;
  }
  const found = findCommand(words);
  if (!found) throw unknownCommand(words);
  const { command, depth } = found;

  const args = parseCommandLine(command, argv);
  if (args.values['help']) {
    io.stdout.write(commandHelp(command));
    return EXIT.ok;
  }
  const operands = args.positionals.slice(depth);
  if (operands.length > command.args.max) {
    const sub = COMMANDS.filter((c) => c.path.startsWith(`${command.path} `)).map((c) =>
      c.path.split(' ').pop(),
    );
    throw new UsageError(
      sub.length && operands.length > 0
        ? `unknown subcommand "${operands[0]}" of genesis ${command.path} (${sub.join(', ')})`
        : `genesis ${command.path} takes ${command.args.max === 0 ? 'no arguments' : `at most ${command.args.max}`} (got "${operands.join(' ')}")`,
    );
  }
  if (operands.length < command.args.min) {
    throw new UsageError(`genesis ${command.path} needs ${command.operands ?? 'an argument'}; see --help`);
  }

  const ctx = makeContext(command, args.values, io, out);
  const { run } = await command.load();
  return await run(ctx, { values: args.values, positionals: operands });
}

function makeContext(command: CommandSpec, values: Args['values'], io: Io, out: Output): Context {
  const url = (values['url'] as string | undefined) ?? io.env['GENESIS_URL'] ?? DEFAULT_URL;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`--url: "${url}" is not a URL (e.g. ${DEFAULT_URL})`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new UsageError(`--url must be http:// or https:// (got "${url}")`);
  }
  const key = resolveApiKey({
    flag: values['api-key'] as string | undefined,
    env: io.env,
    cwd: io.cwd,
    installRoot: INSTALL_ROOT,
  });
  const api = new ApiClient({
    baseUrl: url.replace(/\/+$/, ''),
    apiKey: key.key,
    keySource: key.source,
    command: `genesis ${command.path}`,
    scope: command.scope,
    timeoutMs: REQUEST_TIMEOUT_MS,
    signal: io.signal,
  });
  return { api, out, signal: io.signal, env: io.env, cwd: io.cwd };
}

/** The words before the first option: the command path and its operands (options may come first, too). */
function leadingWords(argv: string[]): string[] {
  const { positionals } = parseArgs({
    args: argv,
    options: toParseArgs(allOptions()),
    strict: false,
    allowPositionals: true,
  });
  return positionals;
}

function findCommand(words: string[]): { command: CommandSpec; depth: number } | undefined {
  for (const depth of [2, 1]) {
    const path = words.slice(0, depth).join(' ');
    const command = words.length >= depth ? COMMANDS.find((c) => c.path === path) : undefined;
    if (command) return { command, depth };
  }
  return undefined;
}

function unknownCommand(words: string[]): UsageError {
  const group = COMMANDS.filter((c) => c.path.startsWith(`${words[0]} `));
  if (group.length > 0) {
    const subs = group.map((c) => c.path.split(' ')[1]).join(', ');
    return new UsageError(
      words.length > 1
        ? `unknown subcommand "${words[1]}" of genesis ${words[0]} (${subs})`
        : `genesis ${words[0]} needs a subcommand: ${subs}`,
    );
  }
  return new UsageError(`unknown command "${words[0]}"; run \`genesis --help\` for the list`);
}

function parseCommandLine(command: CommandSpec, argv: string[]): Args {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: toParseArgs({ ...command.options, ...GLOBAL_OPTIONS }),
      strict: true,
      allowPositionals: true,
    });
    return { values: values as Args['values'], positionals };
  } catch (err) {
    const message = (err as Error).message.replace(/\. To specify a positional argument.*$/s, '');
    // `--model` for `--model-id` (as the docs once said): name the option that was probably meant.
    const unknown = /^Unknown option '--([^'=]+)'/.exec(message)?.[1];
    const meant = unknown && Object.keys(command.options).find((o) => o.startsWith(`${unknown}-`));
    const hint = meant ? `; did you mean --${meant}?` : '';
    throw new UsageError(`${message}${hint} (see \`genesis ${command.path} --help\`)`);
  }
}

function allOptions(): Record<string, OptionSpec> {
  return Object.assign({}, GLOBAL_OPTIONS, ...COMMANDS.map((c) => c.options)) as Record<string, OptionSpec>;
}

function toParseArgs(options: Record<string, OptionSpec>): NonNullable<ParseArgsConfig['options']> {
  return Object.fromEntries(
    Object.entries(options).map(([name, o]) => [
      name,
      o.short ? { type: o.type, short: o.short } : { type: o.type },
    ]),
  );
}

/** Prints an error (stderr, and `{"error": …}` on stdout with --json) and returns its exit status. */
function report(err: unknown, out: Output): ExitCode {
  if (err instanceof CliError) {
    out.error(err.message);
    if (out.json) out.data({ error: { message: err.message, ...err.details } });
    return err.exitCode;
  }
  const e = err as Error;
  out.error(`internal error: ${e.stack ?? String(e)}`);
  if (out.json) out.data({ error: { code: 'INTERNAL', message: e.message } });
  return EXIT.failed;
}

/** The real process: its streams, and Ctrl-C (a second one ends the process at once). */
function processIo(): Io {
  const controller = new AbortController();
  process.on('SIGINT', () => {
    if (controller.signal.aborted) process.exit(EXIT.interrupted);
    controller.abort();
  });
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(EXIT.ok); // `genesis events | head`
  });
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
    signal: controller.signal,
  };
}
