import type { CommandSpec, OptionSpec } from './command';
import { COMMANDS, GLOBAL_OPTIONS } from './commands';

const EXIT_CODES = [
  ['0', 'done'],
  ['1', 'the gateway refused the request, or the operation failed (failed rollback or cycle)'],
  ['2', 'usage: bad flags or arguments, invalid lines in an import file'],
  ['3', 'the gateway cannot be reached (or did not answer in time)'],
  ['4', 'no API key, an unknown key, or a key without the needed scope'],
  ['5', 'gave up waiting (--timeout)'],
  ['130', 'interrupted (Ctrl-C); `learnings import` continues where it stopped when run again'],
];

function optionLines(options: Record<string, OptionSpec>): string[] {
  const left = Object.entries(options).map(
    ([name, o]) => `${o.short ? `-${o.short}, ` : '    '}--${name}${o.value ? ` ${o.value}` : ''}`,
  );
  const width = Math.max(...left.map((l) => l.length));
  return Object.values(options).map((o, i) => `  ${left[i]!.padEnd(width)}  ${o.description}`);
}

export function generalHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => usageOf(c).length));
  return [
    'genesis — the command line of Genesis, the self-improvement loop (talks to the gateway REST API)',
    '',
    'Usage: genesis <command> [options]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${usageOf(c).padEnd(width)}  ${c.summary}`),
    '',
    'Global options:',
    ...optionLines(GLOBAL_OPTIONS),
    '',
    'Exit codes:',
    ...EXIT_CODES.map(([code, text]) => `  ${code!.padStart(3)}  ${text}`),
    '',
    'Run `genesis <command> --help` for the options of a command.',
    '',
  ].join('\n');
}

export function commandHelp(c: CommandSpec): string {
  return [
    `Usage: genesis ${usageOf(c)}${Object.keys(c.options).length ? ' [options]' : ''}`,
    '',
    `${c.summary[0]!.toUpperCase()}${c.summary.slice(1)}.${c.scope ? ` Needs the "${c.scope}" scope.` : ''}`,
    ...(c.description ? ['', c.description] : []),
    ...(Object.keys(c.options).length ? ['', 'Options:', ...optionLines(c.options)] : []),
    '',
    'Global options:',
    ...optionLines(GLOBAL_OPTIONS),
    '',
  ].join('\n');
}

function usageOf(c: CommandSpec): string {
  return c.operands ? `${c.path} ${c.operands}` : c.path;
}
