import { CATALOGUE, type SubjectRoute } from './catalogue';
import { durableName, streamOf } from './subjects';

/** Where the rendered table lives, relative to the repository root. */
export const SUBJECTS_DOC_PATH = 'docs/subjects.md';

/** The schema of a subject's `data` (a request's: of what is asked), by convention. */
export function schemaPathOf(route: SubjectRoute): string {
  if (route.delivery === 'request')
    return `libs/contracts/schemas/requests/${route.subject}.request.v1.schema.json`;
  const dir = route.delivery === 'broadcast' ? 'messages' : 'events';
  return `libs/contracts/schemas/${dir}/${route.subject}.v1.schema.json`;
}

/** A request's answer schema, beside its request's. */
export function replySchemaPathOf(route: SubjectRoute): string | undefined {
  return route.delivery === 'request' ? schemaPathOf(route).replace('.request.', '.reply.') : undefined;
}

function consumersCell(route: SubjectRoute): string {
  if (route.consumers.length === 0) return '—';
  if (route.delivery !== 'event' && route.delivery !== 'job') return route.consumers.join(', ');
  return route.consumers.map((c) => `${c} (\`${durableName(c, route.subject)}\`)`).join(', ');
}

/**
 * docs/subjects.md: the catalogue as a table, rendered from catalogue.ts (`npm run contracts:docs`;
 * a spec fails when the committed file drifts).
 */
export function renderSubjectsDoc(): string {
  const rows = CATALOGUE.map((r) => {
    const schema = schemaPathOf(r);
    const reply = replySchemaPathOf(r);
    const where = r.delivery === 'event' || r.delivery === 'job' ? `\`${streamOf(r.subject)}\`` : 'core NATS';
    return [
      `\`${r.subject}\``,
      r.delivery,
      where,
      r.producers.join(', '),
      consumersCell(r),
      reply ? `[v1](../${schema}), [reply](../${reply})` : `[v1](../${schema})`,
      r.purpose,
    ];
  });
  const header = ['Subject', 'Delivery', 'Stream', 'Producers', 'Consumers (durable)', 'Schema', 'What'];
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [
    '<!-- Generated from libs/contracts/src/catalogue.ts by `npm run contracts:docs`: do not edit. -->',
    '',
    '# Subjects: who publishes, who consumes',
    '',
    'Every subject that crosses a process, declared once in `libs/contracts/src/catalogue.ts`',
    '(ADR 0026). The NATS permissions (`deploy/nats/auth.conf`, `npm run nats:auth`) are derived from',
    'the same declaration, and a spec checks that each service\u2019s code publishes and consumes only',
    'what it says. Requests are answered by a queue group; broadcasts are not stored. Dead letters',
    '(`dlq.<consumer>`, `dlq.capture.<consumer>`) are written by each consumer\u2019s runner (ADR 0001, 0019).',
    '',
    line(header),
    line(header.map(() => '---')),
    ...rows.map(line),
    '',
  ].join('\n');
}
