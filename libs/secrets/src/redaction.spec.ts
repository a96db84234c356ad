import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  quarantineReason,
  redactLearningFields as redactLearningFieldsAll,
  redactSecrets as redactSecretsAll,
  type RedactedText,
} from './redaction';
import { scanWithSecretlint } from './secretlint-scanner';

// This spec pins redaction with secretlint's rules alone (markers, counts, offsets); the gitleaks and
// Genesis rules on top are covered by pattern-rules.spec.ts and scan-learning.spec.ts.
const redactSecrets = (text: string) => redactSecretsAll(text, scanWithSecretlint);
const redactLearningFields = (
  fields: Record<string, string | undefined>,
  redact: (text: string) => Promise<RedactedText> = redactSecrets,
) => redactLearningFieldsAll(fields, redact);

// Every secret-shaped fixture is assembled at runtime from fragments and random bytes, so this file contains
// nothing that secretlint, gitleaks or GitHub push protection would flag, nor anything that could be live.
const UPPER_DIGITS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const random = (length: number, charset: string): string =>
  Array.from(randomBytes(length), (b) => charset[b % charset.length]).join('');

const fake = {
  awsKeyId: () => ['AK', 'IA', random(16, UPPER_DIGITS)].join(''),
  // Ends alphanumeric: the AWS rule wants a word boundary right after the 40 chars.
  awsSecret: () => random(39, `${ALNUM}/+`) + random(1, ALNUM),
  githubToken: () => ['gh', 'p_', random(36, ALNUM)].join(''),
  slackToken: () => ['xo', 'xb-', '1234567890', '-', '9876543210987', '-', random(24, ALNUM)].join(''),
  dbPassword: () => `Pw${random(14, ALNUM)}`,
  privateKeyPem: () =>
    generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    }) as string,
};
const pemHeader = (label: string) => ['-----BEGIN', label, 'KEY-----'].filter(Boolean).join(' ');
const pemFooter = (label: string) => ['-----END', label, 'KEY-----'].filter(Boolean).join(' ');

const assertGone = (result: RedactedText, ...secrets: string[]) => {
  for (const secret of secrets) {
    assert.ok(!result.text.includes(secret), 'secret left in text');
    // A 12-char slice catches a secret that was only partly covered by a marker.
    assert.ok(!result.text.includes(secret.slice(-12)), 'secret tail left in text');
    assert.ok(!JSON.stringify(result.findings).includes(secret), 'secret echoed in findings');
  }
};

describe('redactSecrets', () => {
  it('redacts an AWS access key id and secret access key, keeping the variable names', async () => {
    const [keyId, secret] = [fake.awsKeyId(), fake.awsSecret()];
    const text = `export AWS_ACCESS_KEY_ID=${keyId}\nexport AWS_SECRET_ACCESS_KEY="${secret}"\n`;
    const result = await redactSecrets(text);
    assert.equal(
      result.text,
      'export AWS_ACCESS_KEY_ID=[REDACTED:aws]\nexport AWS_SECRET_ACCESS_KEY="[REDACTED:aws]"\n',
    );
    assert.equal(result.redactions, 2);
    assert.deepEqual(
      result.findings.map((f) => f.ruleId),
      ['@secretlint/secretlint-rule-aws', '@secretlint/secretlint-rule-aws'],
    );
    assertGone(result, keyId, secret);
  });

  it('redacts a repeated secret where the second occurrence has no detectable context', async () => {
    const secret = fake.awsSecret();
    const text = `AWS_SECRET_ACCESS_KEY=${secret}\nrun: aws configure set aws_secret_access_key ${secret}`;
    const result = await redactSecrets(text);
    assert.equal(
      result.text,
      'AWS_SECRET_ACCESS_KEY=[REDACTED:aws]\nrun: aws configure set aws_secret_access_key [REDACTED:aws]',
    );
    assertGone(result, secret);
  });

  it('redacts a GitHub token and reports a message without the token', async () => {
    const token = fake.githubToken();
    const result = await redactSecrets(`headers = {"Authorization": "token ${token}"}`);
    assert.equal(result.text, 'headers = {"Authorization": "token [REDACTED:github]"}');
    assert.equal(result.findings.length, 1);
    assert.equal(result.findings[0].ruleId, '@secretlint/secretlint-rule-github');
    assert.match(result.findings[0].message, /\[REDACTED:github\]/);
    assertGone(result, token);
  });

  it('redacts a PEM private key block', async () => {
    const pem = fake.privateKeyPem();
    const result = await redactSecrets(`key = """\n${pem}"""`);
    assert.equal(result.text, 'key = """\n[REDACTED:privatekey]\n"""');
    assertGone(result, pem, pem.split('\n')[1]);
  });

  it('redacts a Slack token', async () => {
    const token = fake.slackToken();
    const result = await redactSecrets(`client = WebClient(token="${token}")`);
    assert.equal(result.text, 'client = WebClient(token="[REDACTED:slack]")');
    assertGone(result, token);
  });

  it('redacts postgres and mongodb+srv URLs that carry a password', async () => {
    const [pg, mongo] = [fake.dbPassword(), fake.dbPassword()];
    const text = [
      `DATABASE_URL=postgres://app:${pg}@db.internal:5432/app?sslmode=require`,
      `MONGO_URL=mongodb+srv://svc:${mongo}@cluster0.abcde.mongodb.net/prod`,
    ].join('\n');
    const result = await redactSecrets(text);
    assert.equal(
      result.text,
      'DATABASE_URL=[REDACTED:database-connection-string]\nMONGO_URL=[REDACTED:database-connection-string]',
    );
    assertGone(result, pg, mongo);
  });

  it('merges overlapping findings into one marker', async () => {
    const token = fake.githubToken();
    const result = await redactSecrets(`git clone https://x-access-token:${token}@github.com/org/repo.git`);
    assert.equal(result.text, 'git clone [REDACTED:basicauth+github]/org/repo.git');
    assert.equal(result.redactions, 1);
    assert.equal(result.findings.length, 2);
    assertGone(result, token);
  });

  it('redacts several different secrets in one string', async () => {
    const [keyId, token, slack, pg, pem] = [
      fake.awsKeyId(),
      fake.githubToken(),
      fake.slackToken(),
      fake.dbPassword(),
      fake.privateKeyPem(),
    ];
    const text = `id=${keyId}\ngh: ${token}\nslack: ${slack}\ndb: postgresql://u1:${pg}@db:5432/x\n${pem}end`;
    const result = await redactSecrets(text);
    assert.equal(
      result.text,
      'id=[REDACTED:aws]\ngh: [REDACTED:github]\nslack: [REDACTED:slack]\n' +
        'db: [REDACTED:database-connection-string]\n[REDACTED:privatekey]\nend',
    );
    assert.equal(result.redactions, 5);
    assert.equal(result.findings.length, 5);
    assertGone(result, keyId, token, slack, pg, pem);
  });

  it('leaves text without secrets untouched, including code that handles passwords', async () => {
    const texts = [
      'def connect():\n    password = os.environ["DB_PASSWORD"]\n    return pg.connect(password=password)\n',
      'const url = process.env.DATABASE_URL ?? `postgres://${user}:${password}@${host}/app`;',
      // Placeholder credentials are skipped by the preset on purpose (its built-in placeholder list).
      'e.g. postgres://user:password@localhost:5432/app or https://myusername:mypassword@example.com',
      // AWS's documentation example key is on the AWS rule's built-in allow-list.
      `aws_access_key_id = ${['AK', 'IA', 'IOSFODNN7', 'EXAMPLE'].join('')}`,
      'token = "ghp_<your token here>"  # a GitHub PAT, see the docs',
      '',
    ];
    for (const text of texts) {
      assert.deepEqual(await redactSecrets(text), { text, redactions: 0, findings: [] });
    }
  });

  it("ignores secretlint's disable comment directives inside the text", async () => {
    const token = fake.githubToken();
    const directive = ['secretlint', 'disable'].join('-');
    const result = await redactSecrets(`// ${directive}\nconst t = "${token}";`);
    assert.equal(result.text, `// ${directive}\nconst t = "[REDACTED:github]";`);
  });

  it('keeps offsets right when the text starts with a BOM', async () => {
    const token = fake.githubToken();
    const result = await redactSecrets(`\uFEFFtoken: ${token} done`);
    assert.equal(result.text, '\uFEFFtoken: [REDACTED:github] done');
  });

  it('is idempotent: redacted text has nothing left to redact', async () => {
    const first = await redactSecrets(`a ${fake.githubToken()} b ${fake.slackToken()}`);
    assert.deepEqual(await redactSecrets(first.text), { text: first.text, redactions: 0, findings: [] });
  });

  it('records no performance marks (the secretlint profiler leaks in long runs)', async () => {
    const before = performance.getEntriesByType('mark').length;
    for (let i = 0; i < 20; i++) await redactSecrets(`x ${fake.githubToken()}`);
    assert.equal(performance.getEntriesByType('mark').length, before);
  });
});

describe('redactLearningFields', () => {
  it('redacts every text field passed and keeps undefined fields', async () => {
    const [token, slack] = [fake.githubToken(), fake.slackToken()];
    const result = await redactLearningFields({
      context: `use ${token}`,
      model_output: 'print(1)',
      correction: `post to slack with ${slack}`,
      notes: `also ${token}`,
      language: undefined,
    });
    assert.deepEqual(result.fields, {
      context: 'use [REDACTED:github]',
      model_output: 'print(1)',
      correction: 'post to slack with [REDACTED:slack]',
      notes: 'also [REDACTED:github]',
      language: undefined,
    });
    assert.equal(result.redactions, 3);
    assert.deepEqual(
      result.findings.map((f) => f.field),
      ['context', 'correction', 'notes'],
    );
    assert.deepEqual(result.failedFields, []);
  });

  it('drops a field whose scan throws and reports it instead of rejecting', async () => {
    const failing = async (text: string): Promise<RedactedText> => {
      if (text.includes('boom')) throw new Error('scanner crashed');
      return redactSecrets(text);
    };
    const result = await redactLearningFields({ context: 'boom', correction: 'fine' }, failing);
    assert.deepEqual(result.fields, { context: undefined, correction: 'fine' });
    assert.deepEqual(result.failedFields, ['context']);
  });
});

describe('quarantineReason', () => {
  const reasonFor = async (fields: Record<string, string | undefined>) =>
    quarantineReason(await redactLearningFields(fields))?.code;

  it('accepts a learning whose secrets could be redacted', async () => {
    assert.equal(
      await reasonFor({
        context: `client = Github("${fake.githubToken()}")\n${fake.privateKeyPem()}`,
        model_output: 'client = Github(TOKEN)',
        correction: 'client = Github(os.environ["GITHUB_TOKEN"])',
      }),
      undefined,
    );
  });

  it('accepts a correction that still has content around a redacted secret', async () => {
    assert.equal(await reasonFor({ correction: `token = "${fake.githubToken()}"` }), undefined);
  });

  it('accepts a punctuation-only correction that had nothing redacted', async () => {
    assert.equal(await reasonFor({ correction: ')' }), undefined);
  });

  it('quarantines a correction that was nothing but a secret', async () => {
    assert.equal(await reasonFor({ correction: fake.githubToken() }), 'UNCLEANABLE_SECRET');
    assert.equal(await reasonFor({ correction: ` "${fake.slackToken()}",\n` }), 'UNCLEANABLE_SECRET');
    assert.equal(await reasonFor({ correction: fake.privateKeyPem() }), 'UNCLEANABLE_SECRET');
  });

  it('quarantines when a private key header survives redaction', async () => {
    const placeholder = `${pemHeader('RSA PRIVATE')}\n...\n${pemFooter('RSA PRIVATE')}`;
    assert.equal(await reasonFor({ context: placeholder, correction: 'x = 1' }), 'RESIDUAL_PRIVATE_KEY');
    // The privatekey rule does not match encrypted PKCS#8 keys at all.
    const encrypted = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
      cipher: 'aes-256-cbc',
      passphrase: random(12, ALNUM),
    }) as string;
    assert.ok(encrypted.startsWith(pemHeader('ENCRYPTED PRIVATE')));
    assert.equal(await reasonFor({ model_output: encrypted, correction: 'x = 1' }), 'RESIDUAL_PRIVATE_KEY');
  });

  it('quarantines an empty or missing correction', async () => {
    assert.equal(await reasonFor({ correction: ' \n\t' }), 'EMPTY_CORRECTION');
    assert.equal(await reasonFor({ context: 'x' }), 'EMPTY_CORRECTION');
  });

  it('quarantines when the scan failed, before any other check', async () => {
    const cleaned = await redactLearningFields({ correction: 'ok' }, () => Promise.reject(new Error('x')));
    const reason = quarantineReason(cleaned);
    assert.equal(reason?.code, 'SECRET_SCAN_FAILED');
    assert.equal(reason?.message, 'secret scan failed for: correction');
  });
});
