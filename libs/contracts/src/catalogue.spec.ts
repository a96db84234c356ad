import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { CATALOGUE, SERVICES, consumedBy, producedBy, routeOf, type Delivery } from './catalogue';
import { SUBJECTS_DOC_PATH, renderSubjectsDoc, replySchemaPathOf, schemaPathOf } from './catalogue-doc';
import { BROADCASTS, REQUESTS, STREAMS, SUBJECTS, streamOf } from './subjects';

const REPO = join(__dirname, '..', '..', '..', '..');

function sourceFiles(dir: string, ext: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path, ext);
    return e.name.endsWith(ext) && !e.name.endsWith(`.spec${ext}`) ? [path] : [];
  });
}

const KEYS: Record<string, Record<string, string>> = { SUBJECTS, REQUESTS, BROADCASTS };
const valueOf = (table: string, key: string): string => {
  const value = KEYS[table]?.[key];
  assert.ok(value, `${table}.${key} is not a subject`);
  return value;
};

/**
 * The subjects a TypeScript source publishes and consumes, by the call shapes the services use: an
 * envelope made or followed up for a subject, a publish or outbox entry, a job queued with
 * `subject:`; a consumer spec `{ subject, handle }`, a `[subject, handler]` pair, a durable named
 * for it, a core subscription. A mention that is neither (a list of subjects a metric groups) counts
 * as nothing.
 */
function scanTypeScript(code: string): { publishes: Set<string>; consumes: Set<string> } {
  const publishes = new Set<string>();
  const consumes = new Set<string>();
  const ref = String.raw`(SUBJECTS|REQUESTS|BROADCASTS)\.(\w+)`;
  const publishing = [
    String.raw`makeEnvelope\(\s*${ref}`,
    String.raw`followUp\([^,()]*,\s*${ref}`,
    String.raw`\.publish\(\s*${ref}`,
    String.raw`\.request\(\s*${ref}`,
    String.raw`enqueueEvent\([^,()]*,\s*${ref}`,
    String.raw`subject:\s*${ref}\s*,(?!\s*handle)`,
  ];
  const consuming = [
    String.raw`subject:\s*${ref}\s*,\s*handle`,
    String.raw`\[\s*${ref}\s*,\s*(?:async\b|\(|\w+\s*\])`,
    String.raw`durableName\(\s*'[\w-]+'\s*,\s*${ref}`,
    String.raw`subscribe\(\s*${ref}`,
  ];
  for (const [patterns, into] of [
    [publishing, publishes],
    [consuming, consumes],
  ] as const) {
    for (const pattern of patterns) {
      for (const m of code.matchAll(new RegExp(pattern, 'g'))) into.add(valueOf(m[1]!, m[2]!));
    }
  }
  return { publishes, consumes };
}

/**
 * `const TASK_SUBJECTS = { queued: SUBJECTS.taskQueued, ... }` → `TASK_SUBJECTS.queued` reads as
 * `SUBJECTS.taskQueued` (libs/engine names its lifecycle's subjects that way).
 */
function resolveAliases(codes: string[]): (code: string) => string {
  const aliases = new Map<string, string>();
  for (const code of codes) {
    for (const block of code.matchAll(/const (\w+)\s*=\s*\{([^}]*)\}/g)) {
      for (const entry of block[2]!.matchAll(/(\w+):\s*(SUBJECTS\.\w+)/g)) {
        aliases.set(`${block[1]}.${entry[1]}`, entry[2]!);
      }
    }
  }
  return (code) => code.replace(/\b(\w+\.\w+)\b/g, (ref: string) => aliases.get(ref) ?? ref);
}

function scanDir(dir: string): { publishes: Set<string>; consumes: Set<string>; imports: Set<string> } {
  const publishes = new Set<string>();
  const consumes = new Set<string>();
  const imports = new Set<string>();
  const codes = sourceFiles(dir, '.ts').map((file) => readFileSync(file, 'utf8'));
  const resolve = resolveAliases(codes);
  for (const code of codes) {
    const found = scanTypeScript(resolve(code));
    found.publishes.forEach((s) => publishes.add(s));
    found.consumes.forEach((s) => consumes.add(s));
    for (const m of code.matchAll(/from '@genesis\/([\w-]+)'/g)) imports.add(m[1]!);
  }
  return { publishes, consumes, imports };
}

const TS_SERVICES = SERVICES.filter((s) => existsSync(join(REPO, 'apps', s, 'src', 'main.ts')));

describe('the subject catalogue (ADR 0026)', () => {
  it('declares every subject once, with the delivery its stream implies', () => {
    const declared = CATALOGUE.map((r) => r.subject);
    assert.equal(new Set(declared).size, declared.length, 'a subject declared twice');
    const expected: [string, Delivery][] = [
      ...Object.values(SUBJECTS).map((s): [string, Delivery] => [
        s,
        streamOf(s) === STREAMS.jobs ? 'job' : 'event',
      ]),
      ...Object.values(REQUESTS).map((s): [string, Delivery] => [s, 'request']),
      ...Object.values(BROADCASTS).map((s): [string, Delivery] => [s, 'broadcast']),
    ];
    assert.deepEqual(
      declared.slice().sort(),
      expected.map(([s]) => s).sort(),
      'add the new subject to libs/contracts/src/catalogue.ts (producers, consumers), then npm run contracts:docs',
    );
    for (const [subject, delivery] of expected) assert.equal(routeOf(subject).delivery, delivery, subject);
    for (const r of CATALOGUE) {
      assert.ok(r.producers.length > 0, `${r.subject}: nobody publishes it`);
      if (r.delivery === 'request') assert.ok(r.consumers.length > 0, `${r.subject}: nobody answers it`);
    }
  });

  it("points at a schema that exists for every subject (and a request's reply)", () => {
    for (const r of CATALOGUE) {
      for (const schema of [schemaPathOf(r), replySchemaPathOf(r)].filter((x) => x !== undefined)) {
        assert.ok(existsSync(join(REPO, schema)), `${r.subject}: ${schema} is missing`);
      }
    }
  });

  it(`${SUBJECTS_DOC_PATH} is rendered from the catalogue (npm run contracts:docs)`, () => {
    assert.equal(readFileSync(join(REPO, SUBJECTS_DOC_PATH), 'utf8'), renderSubjectsDoc());
  });

  it('the scan recognises the call shapes the services use', () => {
    const code = `
      enqueueEvent(m, SUBJECTS.cycleRequested, makeEnvelope(SUBJECTS.cycleRequested, data, {}));
      outbox.push({ subject: SUBJECTS.modelDeployed, envelope: followUp(event, SUBJECTS.modelDeployed, d) });
      specs = [{ subject: SUBJECTS.modelEvaluated, handle: (e) => x(e) }];
      handlers = [[SUBJECTS.taskQueued, async (e) => y(e)]];
      durableName('learner', SUBJECTS.learningCaptured);
      connection.subscribe(BROADCASTS.workersHeartbeat, {});
      const CYCLELESS = [SUBJECTS.feedbackRecorded, SUBJECTS.learningStored];`;
    const { publishes, consumes } = scanTypeScript(code);
    assert.deepEqual([...publishes].sort(), ['cycle.requested', 'model.deployed']);
    assert.deepEqual([...consumes].sort(), [
      'learning.captured',
      'model.evaluated',
      'task.queued',
      'workers.heartbeat',
    ]);
  });

  for (const service of TS_SERVICES) {
    it(`${service}'s code publishes and consumes only what the catalogue gives it, and all of it`, () => {
      const app = scanDir(join(REPO, 'apps', service, 'src'));
      const mayPublish = producedBy(service, 'event', 'job', 'request', 'broadcast');
      const mayConsume = consumedBy(service, 'event', 'job', 'request', 'broadcast');
      const where = `libs/contracts/src/catalogue.ts (${service})`;
      for (const s of app.publishes)
        assert.ok(mayPublish.includes(s), `${service} publishes ${s}: not in ${where}`);
      for (const s of app.consumes)
        assert.ok(mayConsume.includes(s), `${service} consumes ${s}: not in ${where}`);
      // The other way round: what the catalogue grants is used, by the app or by a library it imports
      // (libs/cycles publishes cycle.failed for every service that advances a cycle).
      const viaLibs = new Set(app.publishes);
      for (const lib of app.imports)
        scanDir(join(REPO, 'libs', lib, 'src')).publishes.forEach((s) => viaLibs.add(s));
      for (const s of mayPublish.filter((x) => routeOf(x).delivery !== 'request')) {
        assert.ok(viaLibs.has(s), `${where} says ${service} publishes ${s}, but no code of it does`);
      }
      for (const s of consumedBy(service, 'event', 'job', 'broadcast')) {
        assert.ok(app.consumes.has(s), `${where} says ${service} consumes ${s}, but no code of it does`);
      }
    });
  }

  it('the Python worker and embedder use only the subjects the catalogue gives them, and all of them', () => {
    const src = join(REPO, 'apps', 'trainer-worker', 'src', 'trainer_worker');
    const constants = new Map(
      [...Object.values(SUBJECTS), ...Object.values(REQUESTS), ...Object.values(BROADCASTS)].map((s) => [
        s.replace(/[._]/g, '_').toUpperCase(),
        s,
      ]),
    );
    const used = { 'trainer-worker': new Set<string>(), embedder: new Set<string>() };
    for (const file of sourceFiles(src, '.py')) {
      const rel = relative(src, file);
      if (rel === 'subjects.py') continue;
      const service = rel.startsWith('embedding') ? 'embedder' : 'trainer-worker';
      const code = readFileSync(file, 'utf8');
      const names = [
        ...[...code.matchAll(/\bsubjects\.([A-Z_]+)\b/g)].map((m) => m[1]!),
        ...[...code.matchAll(/from \.+subjects import ([A-Z_, ]+)/g)].flatMap((m) => m[1]!.split(/\s*,\s*/)),
      ];
      for (const name of names) {
        if (name.startsWith('STREAM_')) continue;
        const subject = constants.get(name);
        assert.ok(subject, `${rel}: ${name} is not a subject constant`);
        used[service].add(subject);
      }
    }
    for (const [service, subjects] of Object.entries(used)) {
      const allowed = [
        ...producedBy(service, 'event', 'job', 'request', 'broadcast'),
        ...consumedBy(service, 'event', 'job', 'request', 'broadcast'),
      ];
      assert.deepEqual([...subjects].sort(), allowed.sort(), `${service}: code vs catalogue`);
    }
  });
});
