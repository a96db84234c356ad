import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RE2 } from 're2-wasm';
import { GITLEAKS_RULES_FILE, gitleaksRules } from './gitleaks-rules';
import { KeywordIndex } from './keyword-index';
import { re2ToJs } from './re2-to-js';
import { redactSecrets } from './redaction';
import { secretCorpus, SECRET_CORPUS_KINDS, seededRandom } from './secret-corpus';
import { scanForSecrets, scanManyForSecrets } from './secretlint-scanner';

// The pattern rules (gitleaks' default set compiled from RE2, Genesis' own) and the whole scanner's recall
// over the generated corpus. Recall per kind is printed, so a run shows what a rule change did.

const corpus = secretCorpus();

/** Every match of a regex as [index, text] pairs; `exec` loops work for both engines. */
function matches(engine: RegExp | RE2, text: string) {
  const regex = engine as RegExp;
  const out: Array<[number, string]> = [];
  regex.lastIndex = 0;
  for (let m = regex.exec(text); m !== null; m = regex.exec(text)) {
    out.push([m.index, m[0]]);
    if (m[0].length === 0) regex.lastIndex++;
  }
  return out;
}

describe('gitleaks rules compiled from RE2 to JavaScript', () => {
  const specs = GITLEAKS_RULES_FILE.rules.filter((r) => r.regex);

  it('compiles every rule with a regex (and its allowlists)', () => {
    assert.ok(specs.length >= 200, `only ${specs.length} rules`);
    assert.equal(gitleaksRules().length, specs.length);
  });

  it('matches exactly what RE2 matches, rule by rule, over the corpus and clean code', () => {
    // re2-wasm is Google's RE2 (the engine family gitleaks' Go regexp belongs to), too slow for the hot
    // path but the reference here. Texts are ASCII, so both engines' indices agree. Per rule, the first
    // ten texts holding one of its keywords (as the scanner would pick them), upper-cased copies among
    // them: RE2 builds its automata per exec, and a few rules cost it seconds over the whole corpus.
    const texts = [...corpus.flatMap((c) => [c.text, c.text.toUpperCase()]), ...CLEAN_CODE];
    let compared = 0;
    for (const spec of specs) {
      const js = new RegExp(re2ToJs(spec.regex!), 'g');
      const re2 = new RE2(spec.regex!, 'gu');
      const picked = texts
        .filter((text) => {
          const lower = text.toLowerCase();
          return spec.keywords.length === 0 || spec.keywords.some((k) => lower.includes(k));
        })
        .slice(0, 10);
      for (const text of picked) {
        assert.deepStrictEqual(
          matches(js, text),
          matches(re2, text),
          `rule ${spec.id} on ${text.slice(0, 60)}`,
        );
        compared++;
      }
    }
    assert.ok(compared > 300, `only ${compared} comparisons`);
  });

  it('translates inline flags, POSIX classes, \\z and dot like RE2', () => {
    const cases: Array<[string, string[]]> = [
      ['\\b(p8e-(?i)[a-z0-9]{4})', ['p8e-AbC1', 'P8E-abcd', 'p8e-abcd']],
      ['(?i)key(?-i:AB)x', ['KEYABX', 'keyabx', 'kEyABx']],
      ['(?i:ab)C', ['ABC', 'abc', 'aBC']],
      ['[[:alnum:]]{3}\\z', ['a1B', 'a1B\n', 'a-b']],
      ['a.b', ['a\nb', 'a\rb', 'axb']],
      ['(?s:a.b)', ['a\nb', 'axb']],
      ['(?i)[^a-c]x', ['Bx', 'dx', 'DX']],
      ['(?P<name>x)y', ['xy']],
    ];
    for (const [pattern, texts] of cases) {
      const js = new RegExp(re2ToJs(pattern), 'g');
      const re2 = new RE2(pattern, 'gu');
      for (const text of texts)
        assert.deepStrictEqual(matches(js, text), matches(re2, text), `${pattern} on ${text}`);
    }
  });
});

const CLEAN_CODE = [
  'def connect():\n    password = os.environ["DB_PASSWORD"]\n    return pg.connect(password=password)',
  'const url = process.env.DATABASE_URL ?? `postgres://${user}:${password}@${host}/app`;',
  'e.g. postgres://user:password@localhost:5432/app or https://myusername:mypassword@example.com',
  'token = "ghp_<your token here>"  # a GitHub PAT, see the docs',
  'export AWS_SECRET_ACCESS_KEY="${AWS_SECRET}"',
  'aws_access_key_id = os.getenv("AWS_ACCESS_KEY_ID")',
  'fetch(url, { headers: { Authorization: `Bearer ${token}` } })',
  'max_tokens: 2048\ntemperature: 0.2\ntokenizer = AutoTokenizer.from_pretrained("gpt2")',
  'if (password.length < MIN_PASSWORD_LENGTH) throw new Error("password too short");',
  'api_key = settings.API_KEY\nsecret = get_secret("db")',
  '"token_type": "bearer",\n"expires_in": 3600',
  'DB_PASSWORD=${DB_PASSWORD}\nAPI_TOKEN=changeme',
  'password: "{{ vault_db_password }}"',
  "SELECT id, email FROM users WHERE created_at > now() - interval '1 day';",
  'for (let i = 0; i < items.length; i++) total += items[i].price * items[i].qty;',
  'const secretKey = crypto.randomBytes(32);\nconst token = jwt.sign(payload, secretKey);',
  'git clone https://github.com/org/repo.git && cd repo && npm ci',
  'curl -H "Accept: application/json" https://api.example.org/v1/items?page=2',
  'redis://localhost:6379/0',
  'password_hash = bcrypt.hashpw(password.encode(), bcrypt.gensalt())',
];

describe('the whole scanner over the generated secret corpus', () => {
  it(`has at least 150 secrets of at least 80 kinds (${corpus.length} of ${SECRET_CORPUS_KINDS})`, () => {
    assert.ok(corpus.length >= 150);
    assert.ok(SECRET_CORPUS_KINDS >= 80);
    assert.equal(new Set(corpus.map((c) => c.secret)).size, corpus.length, 'every secret is distinct');
  });

  it('removes every secret of every kind (recall per kind printed)', async () => {
    const byKind = new Map<string, { found: number; total: number }>();
    const missed: string[] = [];
    for (const item of corpus) {
      const { text } = await redactSecrets(item.text);
      const entry = byKind.get(item.kind) ?? { found: 0, total: 0 };
      entry.total++;
      if (text.includes(item.secret)) missed.push(`${item.kind}: ${text.slice(0, 120)}`);
      else entry.found++;
      byKind.set(item.kind, entry);
    }
    const lines = [...byKind].map(([kind, { found, total }]) => `${kind} ${found}/${total}`);
    const found = corpus.length - missed.length;
    console.log(`secret recall: ${found}/${corpus.length} (${((100 * found) / corpus.length).toFixed(1)}%)`);
    console.log(`recall per kind: ${lines.join(', ')}`);
    assert.deepStrictEqual(missed, []);
  });

  it('leaves clean code that handles credentials untouched', async () => {
    for (const text of CLEAN_CODE) {
      const hits = await scanForSecrets(text);
      assert.deepStrictEqual(
        hits.map((h) => `${h.ruleId} ${text.slice(...h.spans[0]!)}`),
        [],
        text,
      );
    }
  });

  it('gives the same hits batched as text by text, corpus and clean code mixed', async () => {
    const rand = seededRandom(7);
    const texts = [...corpus.map((c) => c.text), ...CLEAN_CODE].sort(() => rand() - 0.5);
    assert.deepStrictEqual(
      await scanManyForSecrets(texts),
      await Promise.all(texts.map((t) => scanForSecrets(t))),
    );
  });

  it('is idempotent: a redacted text has nothing left to redact', async () => {
    for (const item of corpus) {
      const once = await redactSecrets(item.text);
      const twice = await redactSecrets(once.text);
      assert.equal(twice.text, once.text, item.kind);
    }
  });

  it('scans adversarial 32 KB texts in bounded time (no catastrophic backtracking)', async () => {
    const n = 32768;
    const texts = [
      'a'.repeat(n),
      `password=${'a'.repeat(n)}`,
      'token=x '.repeat(n / 8),
      `http://${'a:'.repeat(n / 2)}`,
      `http://u:${'@'.repeat(n)}`,
      `curl ${'x\n'.repeat(n / 2)}`,
      `-----BEGIN PRIVATE KEY-----\n${'A'.repeat(n)}`,
      `kind: secret\n${'data: x\n'.repeat(n / 8)}`,
      `Authorization: Basic ${'A'.repeat(n)}`,
      `secret_key_${'a'.repeat(40)} `.repeat(n / 52),
      `password = "${'\\"'.repeat(n / 2)}`,
    ];
    for (const text of texts) {
      const started = performance.now();
      await scanForSecrets(text);
      const ms = performance.now() - started;
      assert.ok(ms < 2000, `${ms.toFixed(0)} ms for ${text.slice(0, 30)}…`);
    }
  });
});

describe('KeywordIndex', () => {
  it('finds exactly the keywords a naive search finds', () => {
    const rand = seededRandom(11);
    const keywords = [
      'key',
      'api',
      'apikey',
      'ghp_',
      'sk_live',
      'a3-',
      'pass',
      'password',
      'sw',
      'wor',
      'xoxb',
    ];
    const index = new KeywordIndex(keywords);
    const alphabet = 'apikeysw_-3orldxbghlvAP é\n';
    for (let n = 0; n < 2000; n++) {
      const text = Array.from(
        { length: Math.floor(rand() * 40) },
        () => alphabet[Math.floor(rand() * alphabet.length)],
      ).join('');
      const lower = text.toLowerCase();
      assert.deepStrictEqual(
        [...index.found(lower)].sort(),
        keywords.filter((k) => lower.includes(k)).sort(),
        JSON.stringify(text),
      );
    }
  });
});
