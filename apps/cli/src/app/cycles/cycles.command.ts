import type { Context, Run, Values } from '../command';
import { CliError, InterruptedError, UsageError } from '../errors';
import { EXIT, type ExitCode } from '../exit-codes';
import { ApiError } from '../http/api-client';
import { parseDuration } from '../output/format';
import { Screen } from '../output/screen';
import { sleep } from '../sleep';
import { isTerminal, type CycleDetail, type CycleView, type Evaluation } from './cycle';
import { cycleSignature, formatCycle, formatCycleList } from './cycles.format';

/** `genesis cycles [ID|latest] [--watch]`: GET /api/v1/cycles, GET /api/v1/cycles/{id}. */
export const run: Run = async (ctx, { values, positionals }) => {
  const watch = values['watch'] === true;
  const interval = durationOption(values, 'interval', 2000);
  const timeout = values['timeout'] === undefined ? undefined : durationOption(values, 'timeout', 0);
  const id = positionals[0];
  if (!id) return watch ? watchList(ctx, values, interval) : showList(ctx, values);
  const cycleId = id === 'latest' ? await latestCycle(ctx, values) : id;
  return watch ? watchCycle(ctx, cycleId, interval, timeout) : showCycle(ctx, cycleId);
};

function durationOption(values: Values, name: string, fallback: number): number {
  const text = values[name] as string | undefined;
  if (text === undefined) return fallback;
  const ms = parseDuration(text);
  if (ms === undefined || ms <= 0) throw new UsageError(`--${name} must be a duration like 2s, 1m or 500ms`);
  return ms;
}

async function listCycles({ api }: Context, values: Values): Promise<CycleView[]> {
  const limit = (values['limit'] as string | undefined) ?? '20';
  const { body } = await api.get<{ items: CycleView[] }>('/api/v1/cycles', {
    model_id: values['model-id'] as string | undefined,
    status: values['status'] as string | undefined,
    limit,
  });
  return body.items;
}

async function showList(ctx: Context, values: Values): Promise<ExitCode> {
  const items = await listCycles(ctx, values);
  if (ctx.out.json) ctx.out.data({ items });
  else for (const line of formatCycleList(items)) ctx.out.line(line);
  return EXIT.ok;
}

async function latestCycle(ctx: Context, values: Values): Promise<string> {
  const [latest] = await listCycles(ctx, { ...values, limit: '1', status: undefined });
  if (!latest) throw new CliError('no improvement cycles yet', EXIT.failed, { code: 'CYCLE_NOT_FOUND' });
  return latest.id;
}

/** The cycle and, once it has one, its evaluation (absent until the evaluator's endpoint knows it). */
async function fetchCycle(
  { api }: Context,
  id: string,
): Promise<{ cycle: CycleDetail; evaluation: Evaluation | null }> {
  const { body: cycle } = await api.get<CycleDetail>(`/api/v1/cycles/${encodeURIComponent(id)}`);
  let evaluation: Evaluation | null = null;
  if (cycle.evaluation_id) {
    try {
      evaluation = (
        await api.get<Evaluation>(`/api/v1/evaluations/${encodeURIComponent(cycle.evaluation_id)}`)
      ).body;
    } catch (err) {
      if (!(err instanceof ApiError)) throw err; // a missing evaluation leaves the cycle view as it is
    }
  }
  return { cycle, evaluation };
}

function cycleJson(cycle: CycleDetail, evaluation: Evaluation | null): unknown {
  return cycle.evaluation_id ? { ...cycle, evaluation } : cycle;
}

async function showCycle(ctx: Context, id: string): Promise<ExitCode> {
  const { cycle, evaluation } = await fetchCycle(ctx, id);
  if (ctx.out.json) ctx.out.data(cycleJson(cycle, evaluation));
  else for (const line of formatCycle(cycle, evaluation)) ctx.out.line(line);
  return EXIT.ok;
}

/**
 * Polls until the cycle ends: redrawn in place on a terminal; elsewhere (and with --json, one
 * document per line) printed again only when its phase or training progress changed.
 */
async function watchCycle(
  ctx: Context,
  id: string,
  interval: number,
  timeout: number | undefined,
): Promise<ExitCode> {
  const { out } = ctx;
  const screen = new Screen(out);
  const deadline = timeout === undefined ? Infinity : Date.now() + timeout;
  let last = '';
  try {
    for (;;) {
      const { cycle, evaluation } = await fetchCycle(ctx, id);
      const signature = cycleSignature(cycle);
      if (out.redrawable) screen.draw(formatCycle(cycle, evaluation));
      else if (signature !== last) {
        if (out.json) out.data(cycleJson(cycle, evaluation));
        else for (const line of [...formatCycle(cycle, evaluation), '']) out.line(line);
      }
      last = signature;
      if (isTerminal(cycle.status)) return cycle.status === 'failed' ? EXIT.failed : EXIT.ok;
      if (Date.now() + interval > deadline) {
        throw new CliError(`cycle ${id} is still ${cycle.status} after ${seconds(timeout)}`, EXIT.timeout, {
          code: 'TIMEOUT',
          status: cycle.status,
        });
      }
      await sleep(interval, ctx.signal);
    }
  } catch (err) {
    if (err instanceof InterruptedError) return EXIT.ok; // Ctrl-C is how a watch ends
    throw err;
  }
}

async function watchList(ctx: Context, values: Values, interval: number): Promise<ExitCode> {
  const screen = new Screen(ctx.out);
  let last = '';
  try {
    for (;;) {
      const items = await listCycles(ctx, values);
      const signature = JSON.stringify(items.map((c) => [c.id, c.status]));
      if (ctx.out.redrawable) screen.draw(formatCycleList(items));
      else if (signature !== last) {
        if (ctx.out.json) ctx.out.data({ items });
        else for (const line of [...formatCycleList(items), '']) ctx.out.line(line);
      }
      last = signature;
      await sleep(interval, ctx.signal);
    }
  } catch (err) {
    if (err instanceof InterruptedError) return EXIT.ok;
    throw err;
  }
}

function seconds(ms: number | undefined): string {
  return ms === undefined ? '' : `${Math.round(ms / 1000)}s`;
}
