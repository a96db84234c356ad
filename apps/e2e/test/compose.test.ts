import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv';
import { parse } from 'yaml';

const REPO = join(__dirname, '..', '..', '..', '..');
const APPS = ['gateway', 'learner', 'monitor', 'trainer-bridge', 'evaluator', 'deployer'];

// docker-compose.yml cannot run here (no Docker engine); it is checked against the Compose
// Specification's JSON schema (the copy dclint ships) and for what our stack needs.
describe('docker-compose.yml', () => {
  const compose = parse(readFileSync(join(REPO, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
    services: Record<
      string,
      { healthcheck?: unknown; depends_on?: Record<string, unknown>; command?: unknown }
    >;
  };

  it('is valid against the Compose Specification schema', () => {
    const schema = JSON.parse(
      readFileSync(join(REPO, 'node_modules', 'dclint', 'schemas', 'compose.schema.json'), 'utf8'),
    );
    delete schema.$schema; // draft-07 under its https alias, which Ajv does not know by that name
    const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
    const validate = ajv.compile(schema);
    assert.equal(validate(compose), true, JSON.stringify(validate.errors, null, 2));
  });

  it('runs NATS, Postgres, Redis, Prometheus, Grafana and all six services with health checks', () => {
    for (const name of [
      'nats',
      'postgres',
      'trainer-worker',
      'redis',
      'prometheus',
      'grafana',
      'migrate',
      'provision',
      ...APPS,
    ]) {
      assert.ok(compose.services[name], `service ${name} is missing`);
    }
    for (const app of APPS) {
      assert.ok(compose.services[app]!.healthcheck, `${app} has no healthcheck`);
      assert.ok(compose.services[app]!.depends_on?.['provision'], `${app} must wait for provisioning`);
    }
  });

  it('runs the embedder, and Weaviate (profile) with API-key auth and a volume (ADR 0018)', () => {
    const services = compose.services as Record<string, Record<string, unknown>>;
    const embedder = services['embedder']!;
    assert.deepEqual(embedder['command'], ['python', '-m', 'trainer_worker.embedding']);
    assert.equal((embedder['environment'] as Record<string, string>)['NATS_USER'], 'embedder');
    const weaviate = services['weaviate']!;
    assert.deepEqual(weaviate['profiles'], ['weaviate']);
    const env = weaviate['environment'] as Record<string, string>;
    assert.equal(env['AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED'], 'false');
    assert.equal(env['AUTHENTICATION_APIKEY_ENABLED'], 'true');
    assert.match(String(weaviate['image']), /weaviate:1\.35\.2$/);
    assert.ok((weaviate['volumes'] as string[]).some((v) => v.startsWith('weaviate-data:')));
    assert.ok(weaviate['healthcheck']);
  });

  it('the embedder serves its health port and is health-checked on it', () => {
    const embedder = (compose.services as Record<string, Record<string, unknown>>)['embedder']!;
    const port = (embedder['environment'] as Record<string, string>)['GENESIS_EMBEDDER_PORT'];
    assert.match(port ?? '', /^\d+$/, 'no GENESIS_EMBEDDER_PORT: the embedder serves no HTTP at all');
    const test = (embedder['healthcheck'] as { test?: string[] } | undefined)?.test ?? [];
    assert.ok(test.join(' ').includes(`127.0.0.1:${port}/health/ready`), `healthcheck ${test.join(' ')}`);
  });

  it('the worker reads its study storage URL from a file, as npm start gives it (ADR 0025)', () => {
    const full = compose as unknown as {
      services: Record<
        string,
        { environment: Record<string, string>; configs?: { source: string; target: string }[] }
      >;
      configs: Record<string, { content?: string }>;
    };
    const worker = full.services['trainer-worker']!;
    const file = worker.environment['GENESIS_STUDY_STORAGE_FILE'];
    const mounted = (worker.configs ?? []).find((c) => c.target === file);
    assert.ok(mounted, `GENESIS_STUDY_STORAGE_FILE=${file} is not a mounted config`);
    // the same database as the services (compose interpolates the default)
    assert.match(
      full.configs[mounted.source]?.content ?? '',
      /^\$\{GENESIS_STUDY_STORAGE_URL:-postgresql\+psycopg2:\/\/genesis:genesis@postgres:5432\/genesis\}$/,
    );
    for (const [name, value] of Object.entries(worker.environment))
      assert.doesNotMatch(
        String(value),
        /postgres(ql)?(\+\w+)?:\/\//,
        `${name}: a database URL in the environment`,
      );
  });
});
