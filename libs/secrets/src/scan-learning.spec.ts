import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { scanLearning, scanLearnings, type LearningTexts } from './scan-learning';
import { secretCorpus } from './secret-corpus';
import { SECRET_RULE_SET_VERSION } from './secretlint-scanner';

const corpus = secretCorpus(99, 1);
const base: LearningTexts = {
  source: 'vscode',
  language: 'python',
  context: 'def connect():',
  model_output: '    return None',
  correction: '    return pg.connect(dsn)',
  produced_by: 'genesis-20260101-000000',
  metadata: { file: 'db.py', line: 3, reviewed: true },
};

type Field =
  | 'context'
  | 'model_output'
  | 'correction'
  | 'source'
  | 'language'
  | 'produced_by'
  | 'metadata value'
  | 'metadata key';
const FIELDS: Field[] = [
  'context',
  'model_output',
  'correction',
  'source',
  'language',
  'produced_by',
  'metadata value',
  'metadata key',
];

function placed(field: Field, text: string): LearningTexts {
  if (field === 'metadata value') return { ...base, metadata: { ...base.metadata, note: text } };
  if (field === 'metadata key') return { ...base, metadata: { ...base.metadata, [text]: 'x' } };
  return { ...base, [field]: text };
}

/** Every string a cleaned learning holds, metadata keys included. */
function strings(l: LearningTexts): string[] {
  const out: string[] = [];
  const walk = (v: unknown) => {
    if (typeof v === 'string') out.push(v);
    else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        out.push(k);
        walk(x);
      }
    }
  };
  walk(l);
  return out;
}

describe('scanLearning: every text a learning carries', () => {
  it('leaves a clean learning as it is, with the rule-set version', async () => {
    const scan = await scanLearning(base);
    assert.deepStrictEqual(scan.cleaned, base);
    assert.equal(scan.redactions, 0);
    assert.equal(scan.quarantine, undefined);
    assert.equal(scan.ruleSetVersion, SECRET_RULE_SET_VERSION);
    assert.match(
      scan.ruleSetVersion,
      /^secretlint-preset-recommend@[\d.]+\+gitleaks@v8\.\d+\.\d+\+genesis-rules@\d+$/,
    );
  });

  it('removes every corpus secret from every field; identifiers and metadata keys quarantine', async () => {
    const learnings = FIELDS.flatMap((field) =>
      corpus.map((c) => ({ field, c, learning: placed(field, c.text) })),
    );
    const scans = await scanLearnings(learnings.map((l) => l.learning));
    const missed: string[] = [];
    scans.forEach((scan, i) => {
      const { field, c } = learnings[i]!;
      if (strings(scan.cleaned).some((s) => s.includes(c.secret))) missed.push(`${field}: ${c.kind}`);
      assert.ok(scan.findings.length > 0, `${field}: ${c.kind} has findings`);
      for (const f of scan.findings) assert.ok(!f.message.includes(c.secret) && !f.field.includes(c.secret));
      if (['source', 'language', 'produced_by', 'metadata key'].includes(field)) {
        assert.equal(scan.quarantine?.code, 'SECRET_IN_IDENTIFIER', `${field}: ${c.kind}`);
      }
    });
    assert.deepStrictEqual(missed, []);
  });

  it('removes a bare corpus secret (no name beside it) from every identifier field, and quarantines', async () => {
    const identifiers = ['source', 'language', 'produced_by', 'metadata key'] as const;
    const learnings = identifiers.flatMap((field) =>
      corpus.map((c) => ({ field, c, learning: placed(field, c.secret) })),
    );
    const scans = await scanLearnings(learnings.map((l) => l.learning));
    const leaked = scans.flatMap((scan, i) => {
      const { field, c } = learnings[i]!;
      const lower = strings(scan.cleaned).join('\n').toLowerCase();
      return lower.includes(c.secret.toLowerCase()) || scan.quarantine?.code !== 'SECRET_IN_IDENTIFIER'
        ? [`${field}: ${c.kind}`]
        : [];
    });
    assert.deepStrictEqual(leaked, []);
  });

  it('keeps ordinary identifiers: language, editor and model names', async () => {
    for (const name of [
      'python',
      'c++',
      'Objective-C',
      'F#',
      'Visual Basic .NET',
      'typescript',
      'vscode-1.95.3',
      'JetBrains/IntelliJ-2024.2',
      'Qwen/Qwen2.5-Coder-1.5B-Instruct',
      'genesis-20260101-000000',
      'gpt-4o-mini-2024-07-18',
      'claude-3-5-sonnet-20241022',
      'ide-plugin@2.3.1',
    ]) {
      const scan = await scanLearning({
        ...base,
        source: name,
        language: name,
        produced_by: name,
        metadata: { [name]: 1 },
      });
      assert.equal(scan.quarantine, undefined, name);
      assert.equal(scan.redactions, 0, name);
    }
  });

  it('redacts a value under a credential-named metadata key, whatever it looks like', async () => {
    const scan = await scanLearning({
      ...base,
      metadata: { db_password: 'hunter22', token_type: 'bearer', n: 1 },
    });
    assert.deepStrictEqual(scan.cleaned.metadata, {
      db_password: '[REDACTED:assignment]',
      token_type: 'bearer',
      n: 1,
    });
    assert.equal(scan.redactions, 1);
    assert.deepStrictEqual(
      scan.findings.map((f) => f.field),
      ['metadata.db_password'],
    );
    assert.equal(scan.quarantine, undefined);
  });

  it('keeps a __proto__ metadata key a plain key and never touches prototypes', async () => {
    const metadata = JSON.parse('{"__proto__": {"polluted": "yes"}, "a": "b"}') as Record<string, unknown>;
    const scan = await scanLearning({ ...base, metadata });
    assert.deepStrictEqual(Object.keys(scan.cleaned.metadata!), ['__proto__', 'a']);
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
  });

  it('names the metadata field of a finding by its cleaned path, never by the secret', async () => {
    const secret = corpus.find((c) => c.kind === 'github-pat')!;
    const scan = await scanLearning({ ...base, metadata: { [secret.secret]: secret.text } });
    const fields = scan.findings.map((f) => f.field);
    assert.ok(fields.every((f) => !f.includes(secret.secret)));
    assert.ok(fields.some((f) => f.endsWith('(key)')));
    assert.equal(scan.quarantine?.code, 'SECRET_IN_IDENTIFIER');
  });

  it('quarantines when a scan fails, without keeping the unscanned text', async () => {
    const scan = await scanLearning(
      { ...base, metadata: { note: 'BOOM here' } },
      {
        scan: () => Promise.reject(new Error('scanner crashed')),
        prefilter: () => Promise.reject(new Error('x')),
      },
    );
    assert.equal(scan.quarantine?.code, 'SECRET_SCAN_FAILED');
    assert.ok(!strings(scan.cleaned).includes('BOOM here'));
  });
});
