import { ago, fields, num, table, when } from '../output/format';
import type { ModelFamily, ModelPerformance } from './performance';

const bytes = (n: number | null | undefined) =>
  n === null || n === undefined
    ? '—'
    : n >= 1e6
      ? `${(n / 1e6).toFixed(1)} MB`
      : `${(n / 1e3).toFixed(1)} kB`;
const ms = (n: number | null | undefined) => (n === null || n === undefined ? '—' : `${n.toFixed(0)} ms`);
const verdict = (ok: boolean | null) => (ok === null ? '' : ok ? ' (within target)' : ' (over target)');

/** The champion's current metrics, then every recorded score and training run, newest first. */
export function formatPerformance(p: ModelPerformance, now = new Date()): string[] {
  const c = p.champion;
  const target = p.family?.constraints ?? {};
  const lines = [`Performance of ${p.model_id}`];
  if (!c) lines.push('  no champion yet: the base model serves until a first promotion');
  else
    lines.push(
      ...fields(
        [
          ['champion', c.version],
          ['accuracy', `${num(c.accuracy)}${c.suite_version ? ` on suite ${c.suite_version}` : ''}`],
          [
            'latency',
            `${ms(c.latency_ms)} per item${target.latency_target_ms !== undefined ? `, target ${ms(target.latency_target_ms)}` : ''}${verdict(c.within_constraints.latency)}`,
          ],
          [
            'size',
            `${bytes(c.size_bytes)}${target.max_size_bytes !== undefined ? `, max ${bytes(target.max_size_bytes)}` : ''}${verdict(c.within_constraints.size)}`,
          ],
          [
            'trained in',
            c.resources['train_seconds'] === undefined ? '—' : `${num(c.resources['train_seconds'], 1)} s`,
          ],
          ['evaluated', when(c.evaluated_at, now)],
        ],
        '  ',
      ),
    );
  lines.push('', 'History');
  if (p.history.length === 0)
    lines.push('  nothing recorded yet (a version appears when training completes)');
  else
    lines.push(
      ...table(
        ['VERSION', 'WHAT', 'SUITE', 'ACCURACY', 'LATENCY', 'SIZE', 'WHEN'],
        p.history.map((h) => [
          h.version,
          h.source === 'training' ? 'trained' : `scored as ${h.role}`,
          h.suite_version ?? '—',
          num(h.accuracy),
          ms(h.latency_ms),
          bytes(h.size_bytes),
          ago(h.recorded_at, now),
        ]),
      ),
    );
  return lines;
}

/** The registered families: what every model picker lists. */
export function formatFamilies(items: ModelFamily[]): string[] {
  if (items.length === 0) return ['no model families registered'];
  return table(
    ['ID', 'BASE MODEL', 'ARTIFACT', 'THRESHOLDS', 'REGISTERED BY'],
    items.map((f) => [
      f.id,
      f.base_model ?? '(GENESIS_BASE_MODEL)',
      f.artifact_kind,
      Object.entries(f.thresholds)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ') || 'defaults',
      f.registered_by,
    ]),
  );
}
