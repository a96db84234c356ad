import { createHash, generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rules as recommendedRules } from '@secretlint/secretlint-rule-preset-recommend';
import {
  redactLearningFields as redactLearningFieldsAll,
  redactManyLearningFields as redactManyAll,
  redactSecrets as redactSecretsAll,
  type RedactedLearningFields,
  type RedactedText,
  type ScanManyOptions,
} from './redaction';
import {
  scanWithSecretlint as scanForSecrets,
  scanManyForSecrets as scanManyAll,
  scanManyForSecretsSettled as scanManySettledAll,
  type PrefilterMessage,
  type ScanHit,
  type SecretScanner,
} from './secretlint-scanner';

// This spec pins the secretlint pre-filter, so it runs secretlint's rules alone: the pattern rules that the
// batch adds for every text (gitleaks, Genesis) are per-text already, and pattern-rules.spec.ts checks the
// batch with them against the per-text scan.
const SECRETLINT_ONLY: ScanManyOptions = { scan: scanForSecrets, patterns: () => [] };
const scanManyForSecrets = (texts: readonly string[], options: ScanManyOptions = {}) =>
  scanManyAll(texts, { ...SECRETLINT_ONLY, ...options });
const scanManyForSecretsSettled = (texts: readonly string[], options: ScanManyOptions = {}) =>
  scanManySettledAll(texts, { ...SECRETLINT_ONLY, ...options });
const redactManyLearningFields = (
  list: readonly Record<string, string | undefined>[],
  options: ScanManyOptions = {},
) => redactManyAll(list, { ...SECRETLINT_ONLY, ...options });
const redactSecrets = (text: string, scan: SecretScanner = scanForSecrets) => redactSecretsAll(text, scan);
const redactLearningFields = (
  fields: Record<string, string | undefined>,
  redact: (text: string) => Promise<RedactedText> = (text) => redactSecrets(text),
) => redactLearningFieldsAll(fields, redact);

// Equivalence of the batched scan (one joined secretlint pass as a pre-filter, then per-text rescans) with the
// per-text scan. Like redaction.spec.ts, every secret-shaped fixture is assembled at runtime from fragments and
// pseudo-random characters, so this file holds nothing a secret scanner would flag. The PRNG is seeded so a
// failure reproduces; PEM keys come from node:crypto.

/** A seeded PRNG in [0, 1): counter-mode sha256, so a failure reproduces from SEED. */
function seededRandom(seed: number): () => number {
  let counter = 0;
  return () => createHash('sha256').update(`${seed}:${counter++}`).digest().readUInt32BE(0) / 4294967296;
}
const SEED = 20240611;
const rand = seededRandom(SEED);
const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)];

const UPPER_DIGITS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const random = (length: number, charset: string): string =>
  Array.from({ length }, () => pick(charset.split(''))).join('');
const digits = (length: number) => random(length, '0123456789');

const pem = (type: 'ec' | 'rsa'): string =>
  (type === 'ec'
    ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
    : generateKeyPairSync('rsa', { modulusLength: 1024 })
  ).privateKey.export({ type: type === 'ec' ? 'pkcs8' : 'pkcs1', format: 'pem' }) as string;

function onePasswordToken(): string {
  // A base64 JSON object whose encoding ends in "fQ==" (its length is 1 mod 3), as the rule expects.
  let json = JSON.stringify({
    email: `${random(12, 'abcdefghijklmnopqrstuvwxyz')}@1passwordserviceaccounts.lcl`,
    muk: { alg: 'A256GCM', k: random(43, ALNUM) },
    secretKey: random(26, UPPER_DIGITS),
  });
  while (json.length % 3 !== 1) json = `${json.slice(0, -1)} }`;
  return ['op', 's_', Buffer.from(json).toString('base64')].join('');
}

/** One text per rule (and message) of the recommend preset, each with a secret in a line of code. */
function secretExamples(): Record<string, string> {
  const awsSecret = random(39, `${ALNUM}/+`) + random(1, ALNUM);
  const dbPassword = () => `Pw${random(14, ALNUM)}`;
  return {
    awsKeyId: `export AWS_ACCESS_KEY_ID=${['AK', 'IA', random(16, UPPER_DIGITS)].join('')}`,
    awsSecret: `export AWS_SECRET_ACCESS_KEY="${awsSecret}"`,
    awsSecretRepeated: `AWS_SECRET_ACCESS_KEY=${awsSecret}\nrun: aws configure set aws_secret_access_key ${awsSecret}`,
    awsAccountId: `aws_account_id = "${digits(12)}"`,
    github: `headers = {"Authorization": "token ${['gh', 'p_', random(36, ALNUM)].join('')}"}`,
    githubFineGrained: `GH_TOKEN=${['github', '_pat_', random(82, `${ALNUM}_`)].join('')}`,
    slackToken: `client = WebClient(token="${['xo', 'xb-', digits(10), '-', digits(13), '-', random(24, ALNUM)].join('')}")`,
    slackWebhook: `url = "${['https://hooks', '.slack.com/services/T', random(10, ALNUM), '/B', random(10, ALNUM), '/', random(24, ALNUM)].join('')}"`,
    npm: `//registry.npmjs.org/:_authToken=${['np', 'm_', random(36, ALNUM)].join('')}`,
    npmXOauth: `"repository": "https://${random(40, 'abcdef0123456789')}:x-oauth-basic@github.com/org/repo.git"`,
    openai: `OPENAI_API_KEY=${['sk-', 'proj-', random(74, ALNUM), 'T3Blbk', 'FJ', random(74, ALNUM)].join('')}`,
    openaiLegacy: `openai.api_key = "${['sk-', random(20, ALNUM), 'T3Blbk', 'FJ', random(20, ALNUM)].join('')}"`,
    anthropic: `client = Anthropic(api_key="${['sk-ant-', 'api03-', random(93, ALNUM), 'AA'].join('')}")`,
    linear: `LINEAR_KEY=${['lin_', 'api_', random(40, ALNUM)].join('')}`,
    sendgrid: `sg = SendGridAPIClient("${['S', 'G.', random(22, ALNUM), '.', random(43, ALNUM)].join('')}")`,
    shopify: `token: ${['shp', 'at_', random(32, 'abcdef0123456789')].join('')}`,
    onePassword: `export OP_SERVICE_ACCOUNT_TOKEN=${onePasswordToken()}`,
    basicAuth: `git clone https://deploy-bot:${random(18, ALNUM)}@git.internal-host.io/org/repo.git`,
    basicAuthWithGithub: `git clone https://x-access-token:${['gh', 'p_', random(36, ALNUM)].join('')}@github.com/o/r.git`,
    postgres: `DATABASE_URL=postgres://app:${dbPassword()}@db.internal:5432/app?sslmode=require`,
    mysql: `dsn = "mysql://svc:${dbPassword()}@mysql.internal:3306/shop"`,
    mongodb: `MONGO_URL=mongodb+srv://svc:${dbPassword()}@cluster0.abcde.mongodb.net/prod`,
    pemEc: `key = """\n${pem('ec')}"""`,
    pemRsa: pem('rsa'),
    several: [
      `id=${['AK', 'IA', random(16, UPPER_DIGITS)].join('')}`,
      `gh: ${['gh', 'p_', random(36, ALNUM)].join('')}`,
      `db: postgresql://u1:${dbPassword()}@db:5432/x`,
      `${pem('ec')}end`,
    ].join('\n'),
    bomGithub: `\uFEFFtoken: ${['gh', 'p_', random(36, ALNUM)].join('')} done`,
  };
}

const CLEAN_LINES = [
  'def connect():\n    password = os.environ["DB_PASSWORD"]\n    return pg.connect(password=password)',
  'const url = process.env.DATABASE_URL ?? `postgres://${user}:${password}@${host}/app`;',
  'e.g. postgres://user:password@localhost:5432/app or https://myusername:mypassword@example.com',
  'token = "ghp_<your token here>"  # a GitHub PAT, see the docs',
  'export AWS_SECRET_ACCESS_KEY="${AWS_SECRET}"',
  'aws_access_key_id = os.getenv("AWS_ACCESS_KEY_ID")',
  'for (let i = 0; i < items.length; i++) total += items[i].price * items[i].qty;',
  'import { Injectable } from "@nestjs/common";',
  '// TODO: rotate the api key via the secrets manager, never commit it',
  "SELECT id, email FROM users WHERE created_at > now() - interval '1 day';",
  'fetch("https://api.example.org/v1/items?page=2", { headers: { Authorization: `Bearer ${token}` } })',
  'mongodb://localhost:27017/test',
  'https://hooks.slack.com/services/<team>/<channel>/<token>',
  '    return {"status": "ok", "count": len(rows)}',
  'fn main() { println!("{}", std::env::var("API_KEY").unwrap_or_default()); }',
  'npm_config_registry=https://registry.npmjs.org/',
  'account = accounts.get(account_id)',
  '-----BEGIN CERTIFICATE----- (certificates are public; this one is truncated)',
];

function cleanText(): string {
  const lines = Array.from({ length: 1 + Math.floor(rand() * 4) }, () => pick(CLEAN_LINES));
  const identifiers = Array.from({ length: 1 + Math.floor(rand() * 3) }, () =>
    random(3 + Math.floor(rand() * 12), 'abcdefghijklmnopqrstuvwxyz_'),
  );
  lines.push(`const ${identifiers[0]} = ${identifiers.join(' + ')}; // ${random(20, `${ALNUM} `)}`);
  return lines.join('\n');
}

const cleanTexts = (count: number) => Array.from({ length: count }, cleanText);

/** Asserts the batch equals the per-text scan and returns the per-text result. */
async function assertScanEquivalent(texts: readonly string[]): Promise<ScanHit[][]> {
  const single = await Promise.all(texts.map((text) => scanForSecrets(text)));
  assert.deepStrictEqual(await scanManyForSecrets(texts), single);
  return single;
}

type Learning = Record<string, string | undefined>;

/** Groups texts three by three into learnings (with an undefined field) and compares the redactions. */
async function assertRedactionEquivalent(
  texts: readonly string[],
  options: ScanManyOptions = {},
): Promise<RedactedLearningFields[]> {
  const list: Learning[] = [];
  for (let i = 0; i < texts.length; i += 3) {
    list.push({
      context: texts[i],
      language: undefined,
      model_output: texts[i + 1],
      correction: texts[i + 2],
    });
  }
  const redact = (text: string) => redactSecrets(text, options.scan);
  const single = await Promise.all(list.map((fields) => redactLearningFields(fields, redact)));
  assert.deepStrictEqual(await redactManyLearningFields(list, options), single);
  return single;
}

async function assertBothEquivalent(texts: readonly string[]): Promise<ScanHit[][]> {
  const single = await assertScanEquivalent(texts);
  await assertRedactionEquivalent(texts);
  return single;
}

/** Counts the per-text scans the batch asks for. */
function countingScanner(): { scan: SecretScanner; scanned: string[] } {
  const scanned: string[] = [];
  return {
    scanned,
    scan: (text) => {
      scanned.push(text);
      return scanForSecrets(text);
    },
  };
}

describe('scanManyForSecrets / redactManyLearningFields equal the per-text scan', () => {
  it('pins the recommend preset rule list the pre-filter argument was checked against', () => {
    assert.deepStrictEqual(
      recommendedRules.map((rule) => rule.meta.id.replace('@secretlint/secretlint-rule-', '')).sort(),
      [
        '1password',
        'anthropic',
        'aws',
        'basicauth',
        'database-connection-string',
        'filter-comments',
        'gcp',
        'github',
        'linear',
        'npm',
        'openai',
        'privatekey',
        'sendgrid',
        'shopify',
        'slack',
      ],
    );
  });

  const examples = secretExamples();
  for (const [name, secretText] of Object.entries(examples)) {
    it(`finds the ${name} example first, in the middle and last among clean texts`, async () => {
      assert.notDeepStrictEqual(await scanForSecrets(secretText), [], `fixture ${name} has no finding`);
      const clean = cleanTexts(8);
      for (const texts of [
        [secretText, ...clean],
        [...clean.slice(0, 4), secretText, ...clean.slice(4)],
        [...clean, secretText],
      ]) {
        const single = await assertBothEquivalent(texts);
        assert.equal(single.filter((hits) => hits.length > 0).length, 1);
      }
    });
  }

  it('finds every example in one batch, each twice, among clean texts', async () => {
    const texts = [...Object.values(examples), ...cleanTexts(40), ...Object.values(examples)];
    const single = await assertBothEquivalent(texts.sort(() => rand() - 0.5));
    assert.equal(single.filter((hits) => hits.length > 0).length, Object.keys(examples).length * 2);
  });

  it('handles many secrets in one batch (100 learnings x 3 fields, a third with secrets)', async () => {
    const values = Object.values(examples);
    const texts = Array.from({ length: 300 }, (_, i) => (i % 3 === 1 ? pick(values) : cleanText()));
    await assertBothEquivalent(texts);
  });

  it('reports no secret split across two texts: AWS name and key, PEM header and body, URLs', async () => {
    const key = random(39, `${ALNUM}/+`) + random(1, ALNUM);
    const pemBlock = pem('ec');
    const cut = pemBlock.indexOf('\n') + 1;
    const pgPassword = `Pw${random(14, ALNUM)}`;
    const pairs: Array<readonly [string, string, boolean]> = [
      // [end of one text, start of the next, whether the two joined are reported]
      ['import os\nAWS_SECRET_ACCESS_KEY=', `${key}\nprint("done")`, true],
      ['config:\n  aws_account_id:', `${digits(12)}\n`, true],
      [`key = """\n${pemBlock.slice(0, cut)}`, `${pemBlock.slice(cut)}"""`, true],
      ['DATABASE_URL=postgres://app:', `${pgPassword}@db.internal:5432/app`, false],
      ['git clone https://deploy-bot:', `${random(18, ALNUM)}@git.internal-host.io/org/repo.git`, false],
      ['url = "https://hooks.slack.com/services/', `T${random(9, ALNUM)}/B${random(9, ALNUM)}/x"`, false],
      [`token = "${['gh', 'p_'].join('')}`, `${random(36, ALNUM)}"`, false],
    ];
    for (const [first, second, joinedIsReported] of pairs) {
      // The joined pass sees a secret across the separator: both texts are rescanned, neither has one alone.
      assert.equal((await scanForSecrets(`${first}\n\n${second}`)).length > 0, joinedIsReported);
      const texts = [cleanText(), first, second, cleanText()];
      assert.deepStrictEqual(await assertBothEquivalent(texts), [[], [], [], []]);
      assert.deepStrictEqual(await scanManyForSecrets([first, second]), [[], []]);
    }
  });

  it('finds an AWS key whose text is swallowed by a crossing match with a range that stops short', async () => {
    // Joined, the AWS rule matches from `AWS_SECRET_ACCESS_KEY=` over the spaces and the separator into the
    // next text, takes 40 characters of it as the key, and reports the range [match start, +40], which ends
    // among the spaces. The next text alone has a real key. Only the reported key (data) leads to it.
    const key = random(24, ALNUM) + '/' + random(14, ALNUM) + random(1, ALNUM);
    const first = `AWS_SECRET_ACCESS_KEY=${' '.repeat(30)}`;
    const second = `secretaccesskey=${key}`;
    const joined = await scanForSecrets(`${first}\n\n${second}`);
    assert.equal(joined.length, 1);
    assert.ok(
      joined[0].spans.every(([, end]) => end <= first.length),
      'the range stays in the first text',
    );
    const single = await assertBothEquivalent([cleanText(), first, second, cleanText()]);
    assert.equal(single[2].length, 1);
  });

  it("handles the AWS rule's allow-listed example key, over which a crossing match is not reported", async () => {
    const example = ['wJalrXUtnFEMI', 'K7MDENG', 'bPxRfiCYEXAMPLEKEY'].join('/');
    const key = () => random(39, `${ALNUM}/+`) + random(1, ALNUM);
    const texts = [
      `AWS_SECRET_ACCESS_KEY=${' '.repeat(40)}`,
      '   ',
      `${example}"secret_access_key=${key()}`,
      `aws_secret_access_key = "${example}"`,
      cleanText(),
      'AWS_SECRET_ACCESS_KEY=',
      `\t${example}\naws_secret_access_key=${key()}`,
      'AWS_SECRET_ACCESS_KEY=',
      ' \n ',
      key(),
    ];
    const single = await assertBothEquivalent(texts);
    assert.deepStrictEqual(
      single.map((hits) => hits.length),
      [0, 0, 1, 0, 0, 0, 1, 0, 0, 0],
    );
  });

  it('finds a private key swallowed by an unreported PEM block crossing the separator', async () => {
    // Joined, `-----BEGIN PRIVATE KEY-----` at the end of one text pairs with the first END of the next one;
    // that body is no key, so nothing is reported, and the block ends inside the real key's BEGIN (END's
    // trailing dashes are its leading ones), so matchAll never sees that key. Hence texts with a PEM BEGIN are
    // always scanned alone.
    const real = pem('ec');
    const first = `notes\n${['-----BEGIN', 'PRIVATE', 'KEY-----'].join(' ')}\nxyz`;
    const second = `${'A'.repeat(100)}\n${['-----END', 'PRIVATE', 'KEY'].join(' ')}${real}`;
    assert.deepStrictEqual(await scanForSecrets(`${first}\n\n${second}`), []);
    const single = await assertBothEquivalent([cleanText(), first, second, cleanText()]);
    assert.equal(single[2].length, 1);
  });

  it('keeps offsets and results right for texts starting with a BOM', async () => {
    const token = ['gh', 'p_', random(36, ALNUM)].join('');
    const texts = [
      `\uFEFFtoken: ${token} done`,
      cleanText(),
      `\uFEFF${cleanText()}`,
      '\uFEFF',
      'AWS_SECRET_ACCESS_KEY=',
      `\uFEFF${random(39, ALNUM)}x`,
      `\uFEFF\uFEFFid = ${['AK', 'IA', random(16, UPPER_DIGITS)].join('')}`,
      `\uFEFFtoken: ${token} done`,
    ];
    const single = await assertBothEquivalent(texts);
    assert.deepStrictEqual(
      single.map((hits) => hits.length),
      [1, 0, 0, 0, 0, 0, 1, 1],
    );
  });

  it('handles empty, whitespace-only and duplicate texts', async () => {
    const token = ['gh', 'p_', random(36, ALNUM)].join('');
    const secret = `const t = "${token}";`;
    const texts = ['', secret, ' \n\t ', '', secret, '\n\n', cleanText(), secret, ''];
    const single = await assertBothEquivalent(texts);
    assert.deepStrictEqual(
      single.map((hits) => hits.length),
      [0, 1, 0, 0, 1, 0, 0, 1, 0],
    );
    assert.deepStrictEqual(await scanManyForSecrets([]), []);
    assert.deepStrictEqual(await scanManyForSecrets(['', '']), [[], []]);
    assert.deepStrictEqual(await redactManyLearningFields([]), []);
    assert.deepStrictEqual(await redactManyLearningFields([{}, { a: undefined }]), [
      await redactLearningFields({}),
      await redactLearningFields({ a: undefined }),
    ]);
  });

  it(`gives [] for 500 random clean code-like texts (seed ${SEED}) and rescans almost none`, async () => {
    const texts = cleanTexts(500);
    const single = await assertBothEquivalent(texts);
    assert.ok(single.every((hits) => hits.length === 0));
    const { scan, scanned } = countingScanner();
    await scanManyForSecrets(texts, { scan });
    // Only the texts with a PEM BEGIN (the certificate line) are scanned alone.
    assert.equal(scanned.length, texts.filter((text) => text.includes('-----BEGIN')).length);
  });

  it('rescans only the texts the joined pass touches', async () => {
    const texts = cleanTexts(300).map((text) => text.replace(/-----BEGIN/g, 'BEGIN'));
    texts[17] = examples.github;
    texts[250] = examples.postgres;
    const { scan, scanned } = countingScanner();
    const result = await scanManyForSecrets(texts, { scan });
    assert.deepStrictEqual(scanned, [examples.github, examples.postgres]);
    assert.deepStrictEqual(result, await Promise.all(texts.map((text) => scanForSecrets(text))));
  });

  it('maps each reported range (and data value) back to the texts it touches', async () => {
    // Joined: 'aaaa' [0, 4), separator, 'bbbb' [6, 10), separator, 'cccc' [12, 16).
    const texts = ['aaaa', 'bbbb', 'cccc'];
    const cases: Array<readonly [PrefilterMessage, string[]]> = [
      [{ range: [0, 4] }, ['aaaa']],
      [{ range: [1, 2] }, ['aaaa']],
      [{ range: [6, 10] }, ['bbbb']],
      [{ range: [4, 5] }, ['aaaa', 'bbbb']], // covers part of a separator
      [{ range: [5, 5] }, ['aaaa', 'bbbb']], // inside a separator
      [{ range: [3, 7] }, ['aaaa', 'bbbb']],
      [{ range: [2, 14] }, texts],
      [{ range: [0, 2], data: { KEY: 'cc', other: 3 } }, texts], // the data value's first occurrence from 0
      [{ range: [12, 13], data: { KEY: 'aaaa' } }, ['cccc']], // occurrences before the range are not looked for
    ];
    for (const [message, expected] of cases) {
      const { scan, scanned } = countingScanner();
      await scanManyForSecrets(texts, { scan, prefilter: () => Promise.resolve([message]) });
      assert.deepStrictEqual(scanned, expected, JSON.stringify(message));
    }
  });

  it('splits a huge batch into chunks (over 500 texts, over 1 MB) with the same results', async () => {
    const big = 'const total = items.reduce((sum, item) => sum + item.price, 0);\n'.repeat(7_000);
    assert.ok(big.length > 400_000 && big.length < 500_000);
    const texts = [
      ...cleanTexts(600),
      big,
      examples.slackToken,
      big,
      `${big}${examples.anthropic}`,
      big,
      examples.npm,
      ...cleanTexts(10),
      `${'x'.repeat(1_100_000)} ${examples.linear}`,
      examples.sendgrid,
    ];
    const single = await assertScanEquivalent(texts);
    assert.equal(single.filter((hits) => hits.length > 0).length, 5);
  });
});

describe('scanManyForSecrets failures', () => {
  const token = ['gh', 'p_', random(36, ALNUM)].join('');
  // Only touched texts are rescanned, so the failing text carries a secret (as a real failure would need to).
  const failing: SecretScanner = (text) =>
    text.includes('BOOM') ? Promise.reject(new Error('scanner crashed')) : scanForSecrets(text);

  it('fails only the texts whose own scan throws, like Promise.allSettled over scanForSecrets', async () => {
    const texts = [cleanText(), `BOOM ${token}`, `ok ${token}`, '', `BOOM ${token}`];
    const settled = await scanManyForSecretsSettled(texts, { scan: failing });
    assert.deepStrictEqual(
      settled.map((outcome) => outcome.status),
      ['fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'rejected'],
    );
    assert.deepStrictEqual(settled, await Promise.allSettled(texts.map((text) => failing(text))));
    await assert.rejects(scanManyForSecrets(texts, { scan: failing }), /scanner crashed/);
  });

  it('drops a failed field and lists it in failedFields, as redactLearningFields does', async () => {
    const texts = [`BOOM ${token}`, `use ${token}`, 'fine', 'x', '', `BOOM and ${token}`];
    const result = await assertRedactionEquivalent(texts, { scan: failing });
    assert.deepStrictEqual(result[0].fields, {
      context: undefined,
      language: undefined,
      model_output: 'use [REDACTED:github]',
      correction: 'fine',
    });
    assert.deepStrictEqual(result[0].failedFields, ['context']);
    assert.deepStrictEqual(result[1].failedFields, ['correction']);
  });

  it('treats a scanner that throws synchronously as a failed text', async () => {
    const throwing: SecretScanner = (text) => {
      if (text.includes('BOOM')) throw new Error('sync crash');
      return scanForSecrets(text);
    };
    const settled = await scanManyForSecretsSettled([`BOOM ${token}`, `ok ${token}`], { scan: throwing });
    assert.deepStrictEqual(
      settled.map((outcome) => outcome.status),
      ['rejected', 'fulfilled'],
    );
  });

  it('scans every text alone when the joined pass throws', async () => {
    const texts = [cleanText(), `BOOM plain`, `ok ${token}`, '', cleanText()];
    const { scan, scanned } = countingScanner();
    const prefilter = () => Promise.reject(new Error('joined pass crashed'));
    const result = await scanManyForSecrets(texts, { scan, prefilter });
    assert.deepStrictEqual(
      scanned,
      texts.filter((text) => text !== ''),
    );
    assert.deepStrictEqual(result, await Promise.all(texts.map((text) => scanForSecrets(text))));
    // With the fallback even a text without a secret reaches the failing scanner, as it does per text.
    await assertRedactionEquivalent(texts, { scan: failing, prefilter });
    const redacted = await redactManyLearningFields([{ context: 'BOOM plain' }, { context: 'x BOOM' }], {
      scan: failing,
      prefilter,
    });
    assert.deepStrictEqual(
      redacted.map((r) => r.failedFields),
      [['context'], ['context']],
    );
  });

  it('scans every text alone when the joined pass reports an invalid range', async () => {
    const texts = [cleanText(), `ok ${token}`, cleanText()];
    const { scan, scanned } = countingScanner();
    const prefilter = () => Promise.resolve([{ range: [5, 2] as const }]);
    assert.deepStrictEqual(
      await scanManyForSecrets(texts, { scan, prefilter }),
      await Promise.all(texts.map((text) => scanForSecrets(text))),
    );
    assert.equal(scanned.length, 3);
  });
});
