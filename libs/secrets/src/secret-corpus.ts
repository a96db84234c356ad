import { createHash, generateKeyPairSync } from 'node:crypto';

/**
 * A generated corpus of fake but format-correct credentials, for recall tests (the learner's unit spec and
 * the end-to-end "no secret survives" test). Every value is built at run time from a seeded PRNG in the
 * provider's real format (prefix, length, alphabet, checksum-free structure), so a failing run reproduces
 * and the repository holds nothing a scanner or push protection would flag: prefixes are split.
 */
export interface CorpusSecret {
  /** A short kind name, e.g. `gitlab-pat`; recall is reported per kind. */
  kind: string;
  /** The raw value that must not survive anywhere (for a PEM key: a line of its body). */
  secret: string;
  /** The secret in a realistic line of code or configuration, as a learning would carry it. */
  text: string;
}

/** A seeded PRNG in [0, 1): counter-mode sha256. */
export function seededRandom(seed: number): () => number {
  let counter = 0;
  return () => createHash('sha256').update(`${seed}:${counter++}`).digest().readUInt32BE(0) / 4294967296;
}

const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const DIGITS = '0123456789';
const ALNUM = UPPER + LOWER + DIGITS;
const HEX = '0123456789abcdef';
const B64URL = `${ALNUM}-_`;
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const BECH32 = 'QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L';

type Gen = (g: Generators) => { secret: string; text: string } | string;

class Generators {
  constructor(private readonly rand: () => number) {}
  s(length: number, charset: string): string {
    let out = '';
    for (let i = 0; i < length; i++) out += charset[Math.floor(this.rand() * charset.length)];
    return out;
  }
  int(min: number, max: number): number {
    return min + Math.floor(this.rand() * (max - min + 1));
  }
  /** A password with punctuation, as people pick them (no whitespace, quotes or URL delimiters). */
  password(length = 16): string {
    const base = this.s(length - 3, ALNUM);
    return `${base.slice(0, 4)}${this.s(1, '!*+,;=~$-')}${base.slice(4)}${this.s(1, DIGITS)}${this.s(1, '!*+~$')}`;
  }
  uuid(): string {
    return `${this.s(8, HEX)}-${this.s(4, HEX)}-4${this.s(3, HEX)}-${this.s(1, '89ab')}${this.s(3, HEX)}-${this.s(12, HEX)}`;
  }
  b64(bytes: number): string {
    const raw = Buffer.from(Array.from({ length: bytes }, () => this.int(0, 255)));
    return raw.toString('base64');
  }
  b64url(json: object): string {
    return Buffer.from(JSON.stringify(json)).toString('base64url');
  }
}

const p = (...parts: string[]) => parts.join('');

/** A fresh PEM private key (from node:crypto, so not seeded: only its format matters). */
function pem(kind: 'rsa' | 'ec' | 'pkcs8' | 'openssh'): string {
  let text: string;
  if (kind === 'rsa') {
    text = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({
      type: 'pkcs1',
      format: 'pem',
    }) as string;
  } else if (kind === 'ec') {
    text = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
      type: 'sec1',
      format: 'pem',
    }) as string;
  } else if (kind === 'pkcs8') {
    text = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  } else {
    // OpenSSH's own container: Node cannot write it, so wrap an ed25519 key's bytes in its armour. The
    // scanner sees the same shape (header, 70-column base64 body, footer) as a real one.
    const body = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'der' }) as Buffer;
    const blob = Buffer.concat([Buffer.from('openssh-key-v1\0'), body, body, body, body]).toString('base64');
    const lines = blob.match(/.{1,70}/g)!.join('\n');
    text = `${p('-----BEGIN OPENSSH ', 'PRIVATE KEY-----')}\n${lines}\n${p('-----END OPENSSH ', 'PRIVATE KEY-----')}\n`;
  }
  return text;
}
/** A body line of a PEM block from its middle (the first lines hold fixed headers): what must not survive. */
const pemBodyLine = (block: string) => {
  const body = block.split('\n').filter((l) => l.length > 0 && !l.startsWith('-----'));
  return body[Math.floor(body.length / 2)]!;
};

const KINDS: Record<string, Gen> = {
  'aws-access-key-id': (g) => {
    const v = p('AK', 'IA', g.s(16, BASE32));
    return { secret: v, text: `aws_access_key_id = ${v}` };
  },
  'aws-secret-access-key': (g) => {
    const v = g.s(39, `${ALNUM}/+`) + g.s(1, ALNUM);
    return { secret: v, text: `aws_secret_access_key = "${v}"` };
  },
  'aws-session-token': (g) => {
    const v = p('IQoJb3JpZ2luX2Vj', g.s(300, `${ALNUM}/+`), '==');
    return { secret: v, text: `export AWS_SESSION_TOKEN=${v}` };
  },
  'github-pat': (g) => p('gh', 'p_', g.s(36, ALNUM)),
  'github-fine-grained-pat': (g) => p('github', '_pat_', g.s(22, ALNUM), '_', g.s(59, ALNUM)),
  'github-oauth': (g) => p('gh', 'o_', g.s(36, ALNUM)),
  'github-app-token': (g) => p('gh', 's_', g.s(36, ALNUM)),
  'github-refresh-token': (g) => p('gh', 'r_', g.s(36, ALNUM)),
  'gitlab-pat': (g) => p('gl', 'pat-', g.s(20, `${ALNUM}_-`)),
  'gitlab-pipeline-trigger': (g) => p('gl', 'ptt-', g.s(40, HEX)),
  'gitlab-runner-token': (g) => p('gl', 'rt-', g.s(20, `${ALNUM}_-`)),
  'gitlab-deploy-token': (g) => p('gl', 'dt-', g.s(20, `${ALNUM}_-`)),
  'stripe-secret-key': (g) => {
    const v = p('sk', '_live_', g.s(24, ALNUM));
    return { secret: v, text: `stripe.api_key = "${v}"` };
  },
  'stripe-restricted-key': (g) => p('rk', '_live_', g.s(24, ALNUM)),
  'stripe-webhook-secret': (g) => {
    const v = p('wh', 'sec_', g.s(32, ALNUM));
    return { secret: v, text: `endpoint_secret = '${v}'` };
  },
  'google-api-key': (g) => p('AI', 'za', g.s(35, `${ALNUM}_-`)),
  'google-oauth-client-secret': (g) => {
    const v = p('GOC', 'SPX-', g.s(28, `${ALNUM}_-`));
    return { secret: v, text: `"client_secret": "${v}",` };
  },
  'azure-storage-account-key': (g) => {
    const v = g.b64(64);
    return {
      secret: v,
      text: `DefaultEndpointsProtocol=https;AccountName=store${g.s(6, LOWER)};AccountKey=${v};EndpointSuffix=core.windows.net`,
    };
  },
  'azure-sas-token': (g) => {
    const v = encodeURIComponent(g.b64(32));
    return {
      secret: v,
      text: `https://acct${g.s(4, LOWER)}.blob.core.windows.net/backups?sv=2022-11-02&ss=b&srt=co&sp=rl&se=2026-12-31T00:00:00Z&spr=https&sig=${v}`,
    };
  },
  'azure-ad-client-secret': (g) => {
    const v = p(g.s(3, ALNUM), g.s(1, DIGITS), 'Q~', g.s(34, `${ALNUM}_~.-`));
    return { secret: v, text: `AZURE_CLIENT_SECRET="${v}"` };
  },
  'huggingface-token': (g) => p('hf', '_', g.s(34, UPPER + LOWER)),
  'huggingface-org-token': (g) => p('api', '_org_', g.s(34, UPPER + LOWER)),
  'pypi-token': (g) => p('pypi-', 'AgEIcHlwaS5vcmc', g.s(120, B64URL)),
  jwt: (g) => {
    const v = [
      g.b64url({ alg: 'HS256', typ: 'JWT' }),
      g.b64url({ sub: g.uuid(), name: g.s(8, LOWER), iat: g.int(1.6e9, 1.8e9) }),
      g.s(43, B64URL),
    ].join('.');
    return { secret: v, text: `const session = "${v}";` };
  },
  'kubeconfig-client-key-data': () => {
    const v = Buffer.from(pem('ec')).toString('base64');
    return { secret: v.slice(120, 200), text: `users:\n- name: admin\n  user:\n    client-key-data: ${v}` };
  },
  'postgresql-psycopg2-url': (g) => {
    const v = g.password();
    return {
      secret: v,
      text: `engine = create_engine("postgresql+psycopg2://app:${v}@db.internal:5432/app")`,
    };
  },
  'jdbc-password': (g) => {
    const v = g.password();
    return { secret: v, text: `jdbc:postgresql://db.internal:5432/shop?user=shop&password=${v}&ssl=true` };
  },
  'jdbc-sqlserver': (g) => {
    const v = g.password();
    return { secret: v, text: `jdbc:sqlserver://sql.internal:1433;databaseName=crm;user=sa;password=${v};` };
  },
  'redis-url': (g) => {
    const v = g.password();
    return { secret: v, text: `REDIS_URL=redis://:${v}@cache.internal:6379/0` };
  },
  'amqps-url': (g) => {
    const v = g.password();
    return { secret: v, text: `broker_url = "amqps://worker:${v}@mq.internal:5671/vhost"` };
  },
  'mongodb-srv-url': (g) => {
    const v = g.password();
    return { secret: v, text: `MONGO_URI=mongodb+srv://svc:${v}@cluster0.ab12c.mongodb.net/prod` };
  },
  'mysql-url': (g) => {
    const v = g.password();
    return { secret: v, text: `dsn = "mysql://shop:${v}@mysql.internal:3306/shop"` };
  },
  'basic-auth-url-punctuation': (g) => {
    const v = `${g.s(5, ALNUM)}@${g.s(3, ALNUM)}!${g.s(4, ALNUM)}$*`;
    return { secret: v, text: `git clone https://deploy:${v}@git.internal.example/org/repo.git` };
  },
  'ftp-url': (g) => {
    const v = g.password();
    return { secret: v, text: `wget ftp://backup:${v}@ftp.internal.example/dump.sql.gz` };
  },
  'authorization-basic': (g) => {
    const v = Buffer.from(`${g.s(6, LOWER)}:${g.password()}`).toString('base64');
    return { secret: v, text: `Authorization: Basic ${v}` };
  },
  'authorization-bearer': (g) => {
    const v = g.s(40, `${ALNUM}._-`);
    return { secret: v, text: `headers = {"Authorization": "Bearer ${v}"}` };
  },
  'dotenv-db-password': (g) => {
    const v = g.password(14);
    return { secret: v, text: `DB_HOST=db.internal\nDB_PASSWORD=${v}\nDB_PORT=5432` };
  },
  'django-secret-key': (g) => {
    const v = p('django-insecure-', g.s(40, `${LOWER}${DIGITS}!@#%^&*(-_=+)`));
    return { secret: v, text: `SECRET_KEY = "${v}"` };
  },
  'password-assignment': (g) => {
    const v = g.password(12);
    return { secret: v, text: `conn = psycopg.connect(host="db", user="app", password="${v}")` };
  },
  'json-api-key': (g) => {
    const v = g.s(32, ALNUM);
    return { secret: v, text: `{"service": "geo", "api_key": "${v}", "timeout": 30}` };
  },
  'yaml-secret': (g) => {
    const v = g.s(24, `${ALNUM}_-`);
    return { secret: v, text: `auth:\n  client_id: web\n  client_secret: ${v}\n` };
  },
  'mssql-connection-string': (g) => {
    const v = g.password();
    return {
      secret: v,
      text: `Server=tcp:sql.internal,1433;Database=crm;User ID=sa;Password=${v};Encrypt=True;`,
    };
  },
  'curl-user': (g) => {
    const v = g.password();
    return { secret: v, text: `curl -u admin:${v} https://jenkins.internal.example/api/json` };
  },
  'npmrc-auth-token': (g) => {
    const v = g.uuid();
    return { secret: v, text: `//registry.internal.example/:_authToken=${v}` };
  },
  'twilio-api-key': (g) => p('S', 'K', g.s(32, HEX)),
  'twilio-auth-token': (g) => {
    const v = g.s(32, HEX);
    return { secret: v, text: `TWILIO_AUTH_TOKEN=${v}` };
  },
  'mailchimp-api-key': (g) => {
    const v = `${g.s(32, HEX)}-us${g.int(10, 21)}`;
    return { secret: v, text: `mailchimp_api_key = "${v}"` };
  },
  'mailgun-api-key': (g) => {
    const v = p('key-', g.s(32, HEX));
    return { secret: v, text: `MAILGUN_API_KEY=${v}` };
  },
  'datadog-api-key': (g) => {
    const v = g.s(32, HEX);
    return { secret: v, text: `DD_API_KEY=${v}` };
  },
  'datadog-app-key': (g) => {
    const v = g.s(40, HEX);
    return { secret: v, text: `datadog_app_key: "${v}"` };
  },
  'heroku-api-key': (g) => {
    const v = g.uuid();
    return { secret: v, text: `HEROKU_API_KEY=${v}` };
  },
  'heroku-api-key-v2': (g) => p('HR', 'KU-AA', g.s(58, `${ALNUM}_-`)),
  'square-access-token': (g) => p('EA', 'AA', g.s(60, `${ALNUM}_-`)),
  'square-oauth-secret': (g) => p('sq0', 'csp-', g.s(43, `${ALNUM}_-`)),
  'discord-bot-token': (g) => {
    const id = Buffer.from(String(g.int(1e17, 9e17)))
      .toString('base64')
      .replace(/=+$/, '');
    const v = `${id}.${g.s(6, B64URL)}.${g.s(38, B64URL)}`;
    return { secret: v, text: `DISCORD_BOT_TOKEN=${v}` };
  },
  'discord-webhook': (g) => {
    const v = g.s(68, B64URL);
    return { secret: v, text: `https://discord.com/api/webhooks/${g.int(1e17, 9e17)}/${v}` };
  },
  'telegram-bot-token': (g) => {
    const v = `${g.int(100000000, 999999999)}:AA${g.s(33, B64URL)}`;
    return { secret: v, text: `TELEGRAM_BOT_TOKEN=${v}` };
  },
  'vault-service-token': (g) => p('hv', 's.', g.s(95, `${ALNUM}_-`)),
  'vault-batch-token': (g) => p('hv', 'b.', g.s(140, `${ALNUM}_-`)),
  'doppler-token': (g) => p('dp', '.pt.', g.s(43, ALNUM)),
  'databricks-token': (g) => p('da', 'pi', g.s(32, HEX)),
  'slack-bot-token': (g) =>
    p('xo', 'xb-', String(g.int(1e10, 9e10)), '-', String(g.int(1e12, 9e12)), '-', g.s(24, ALNUM)),
  'slack-user-token': (g) =>
    p(
      'xo',
      'xp-',
      String(g.int(1e10, 9e10)),
      '-',
      String(g.int(1e10, 9e10)),
      '-',
      String(g.int(1e12, 9e12)),
      '-',
      g.s(32, HEX),
    ),
  'slack-app-token': (g) =>
    p('xa', 'pp-1-', `A${g.s(10, UPPER + DIGITS)}`, '-', String(g.int(1e12, 9e12)), '-', g.s(64, HEX)),
  'slack-webhook': (g) => {
    const v = g.s(24, ALNUM);
    return {
      secret: v,
      text: p(
        'https://hooks',
        '.slack.com/services/T',
        g.s(10, UPPER + DIGITS),
        '/B',
        g.s(10, UPPER + DIGITS),
        '/',
        v,
      ),
    };
  },
  'openssh-private-key': () => {
    const k = pem('openssh');
    return { secret: pemBodyLine(k), text: k };
  },
  'rsa-private-key': () => {
    const k = pem('rsa');
    return { secret: pemBodyLine(k), text: `key = """\n${k}"""` };
  },
  'ec-private-key': () => {
    const k = pem('ec');
    return { secret: pemBodyLine(k), text: k };
  },
  'pkcs8-private-key': () => {
    const k = pem('pkcs8');
    return { secret: pemBodyLine(k), text: `PRIVATE_KEY="${k.replace(/\n/g, '\\n')}"` };
  },
  'npm-token': (g) => p('np', 'm_', g.s(36, ALNUM)),
  'sendgrid-api-key': (g) => p('S', 'G.', g.s(22, `${ALNUM}_-`), '.', g.s(43, `${ALNUM}_-`)),
  'shopify-access-token': (g) => p('shp', 'at_', g.s(32, HEX)),
  'shopify-shared-secret': (g) => p('shp', 'ss_', g.s(32, HEX)),
  'openai-project-key': (g) => p('sk-', 'proj-', g.s(74, ALNUM), 'T3Blbk', 'FJ', g.s(74, ALNUM)),
  'anthropic-api-key': (g) => p('sk-', 'ant-', 'api03-', g.s(93, `${ALNUM}_-`), 'AA'),
  'linear-api-key': (g) => p('lin', '_api_', g.s(40, ALNUM)),
  'atlassian-api-token': (g) => p('ATA', 'TT3', g.s(186, `${ALNUM}_-=`)),
  'grafana-service-account-token': (g) => p('gl', 'sa_', g.s(32, ALNUM), '_', g.s(8, HEX)),
  'new-relic-user-key': (g) => {
    const v = p('NR', 'AK-', g.s(27, UPPER + DIGITS));
    return { secret: v, text: `NEW_RELIC_API_KEY=${v}` };
  },
  'planetscale-token': (g) => p('pscale', '_tkn_', g.s(43, `${ALNUM}_`)),
  'postman-api-key': (g) => p('PM', 'AK-', g.s(24, HEX), '-', g.s(34, HEX)),
  'pulumi-token': (g) => p('pu', 'l-', g.s(40, HEX)),
  'digitalocean-pat': (g) => p('do', 'p_v1_', g.s(64, HEX)),
  'dockerhub-pat': (g) => p('dckr', '_pat_', g.s(27, `${ALNUM}_-`)),
  'alibaba-access-key-id': (g) => p('LT', 'AI', g.s(20, ALNUM)),
  'age-secret-key': (g) => p('AGE-SECRET', '-KEY-1', g.s(58, BECH32)),
  'shippo-token': (g) => p('shippo', '_live_', g.s(40, HEX)),
  'rubygems-token': (g) => p('ruby', 'gems_', g.s(48, HEX)),
  'readme-token': (g) => p('rd', 'me_', g.s(70, LOWER + DIGITS)),
  'prefect-token': (g) => p('pn', 'u_', g.s(36, ALNUM)),
  'dynatrace-token': (g) => p('dt0', 'c01.', g.s(24, UPPER + DIGITS), '.', g.s(64, UPPER + DIGITS)),
  'easypost-token': (g) => p('EZ', 'AK', g.s(54, ALNUM)),
  'sendinblue-token': (g) => p('xkey', 'sib-', g.s(64, HEX), '-', g.s(16, ALNUM)),
  'duffel-token': (g) => p('duffel', '_live_', g.s(43, `${ALNUM}_-`)),
  'clojars-token': (g) => p('CLOJARS', '_', g.s(60, LOWER + DIGITS)),
  'notion-token': (g) => p('nt', 'n_', g.s(11, DIGITS), g.s(35, ALNUM)),
  'terraform-cloud-token': (g) => p(g.s(14, ALNUM), '.atlas', 'v1.', g.s(67, `${ALNUM}_-`)),
  'flutterwave-secret-key': (g) => p('FLWSECK', '_TEST-', g.s(32, 'abcdefgh0123456789'), '-X'),
  'typeform-token': (g) => {
    const v = p('tf', 'p_', g.s(59, `${ALNUM}_-`));
    return { secret: v, text: `TYPEFORM_TOKEN=${v}` };
  },
  'mapbox-secret-token': (g) => {
    const v = p('sk', '.eyJ1', g.s(56, ALNUM), '.', g.s(22, `${ALNUM}_-`));
    return { secret: v, text: `MAPBOX_ACCESS_TOKEN=${v}` };
  },
  'generic-api-token': (g) => {
    const v = g.s(40, `${ALNUM}`);
    return { secret: v, text: `client = Client(api_token="${v}")` };
  },
};

/** The corpus: `perKind` instances of every kind (each kind >= 1), from `seed`. */
export function secretCorpus(seed = 20261204, perKind = 2): CorpusSecret[] {
  const g = new Generators(seededRandom(seed));
  const out: CorpusSecret[] = [];
  for (const [kind, gen] of Object.entries(KINDS)) {
    for (let i = 0; i < perKind; i++) {
      const made = gen(g);
      const item = typeof made === 'string' ? { secret: made, text: `token: ${made}` } : made;
      // A bare token is posted in a plain sentence the second time, with no name to anchor on.
      const text = typeof made === 'string' && i % 2 === 1 ? `use ${made} for the deploy` : item.text;
      out.push({ kind, secret: item.secret, text });
    }
  }
  return out;
}

/** The number of kinds in the corpus. */
export const SECRET_CORPUS_KINDS = Object.keys(KINDS).length;
