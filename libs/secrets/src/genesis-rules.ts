import { groupSpan, type PatternRule, type SecretSpan } from './pattern-scanner';

/**
 * Genesis' own rules, for credentials that have no recognisable format of their own: a value assigned to a
 * name that says it is a credential (`DB_PASSWORD=…`, `SECRET_KEY = "…"`, `"api_key": "…"`, `password: …`),
 * the password of a URL (`scheme://user:pass@host`), an `Authorization:` header, an Azure SAS signature.
 * gitleaks' generic rule covers part of this but drops a value that contains any of ~1,400 English
 * stopwords, which random passwords often do. Bump GENESIS_RULES_VERSION when a rule here changes, so the
 * rule-set version recorded per learning tells a rescan what an old row was cleaned with.
 */
export const GENESIS_RULES_VERSION = 'genesis-rules@1';

// Names that say "this holds a credential"; matched case-insensitively inside a longer name.
const CREDENTIAL_WORDS =
  'passwords?|passwd|passphrase|pwd|secrets?|token|api[_.-]?keys?|access[_.-]?keys?|auth[_.-]?keys?|' +
  'private[_.-]?keys?|client[_.-]?secrets?|credentials?|creds|key[_.-]?data|signing[_.-]?keys?|' +
  'encryption[_.-]?keys?|account[_.-]?keys?|master[_.-]?keys?|session[_.-]?keys?|shared[_.-]?keys?|' +
  'sas[_.-]?token|connection[_.-]?string|conn[_.-]?str|dsn|webhook[_.-]?url';
const CREDENTIAL_NAME = new RegExp(`(?:${CREDENTIAL_WORDS})`, 'i');

// A name ending like this names something about a credential, not the credential (token_type, key_id, ...).
const NOT_A_CREDENTIAL_SUFFIX =
  /(?:^|[_.-]|[a-z](?=[A-Z]))(?:type|name|id|ids|field|url|uri|path|file|length|len|count|prefix|header|label|hint|policy|version|endpoint|expires?|expiry|expires_in|expires_at|ttl|env|var|mode|hash|hashed|digest|format|regex|pattern|limit|size|min|max|required|rotation|reset|strength|confirm|confirmation|validator|validation|placeholder|enabled|provider|kind|class|store|manager)$/i;

/**
 * Placeholders, references and templates: not secrets. Compared lower-case after trimming quotes/spaces.
 */
const PLACEHOLDER_WORDS = new Set([
  'password',
  'passwd',
  'pass',
  'pwd',
  'secret',
  'token',
  'apikey',
  'api_key',
  'key',
  'changeme',
  'change_me',
  'example',
  'null',
  'nil',
  'none',
  'true',
  'false',
  'undefined',
  'empty',
  'redacted',
  'mypassword',
  'mysecret',
  'yourpassword',
  'your_password',
  'your-password',
  'your_token',
  'your-token',
  'your_api_key',
  'your-api-key',
  'dummy',
  'test',
  'string',
  'required',
  'optional',
]);

export function isPlaceholder(raw: string): boolean {
  const value = raw.trim().replace(/^["'`]+|["'`]+$/g, '');
  const lower = value.toLowerCase();
  if (value.length < 4) return true;
  if (PLACEHOLDER_WORDS.has(lower)) return true;
  if (/\[REDACTED[:\]]/.test(value)) return true; // already cleaned: a rescan must not count it again
  if (/^(.)\1+$/.test(value)) return true; // xxxxxxxx, ********, 00000000
  if (/^(?:x+|\*+|\.+|-+|_+|#+)$/i.test(value)) return true;
  // Templates and references: ${VAR}, $VAR, {{ var }}, %(var)s, %VAR%, <your-key>, @VAR@, process.env.X
  if (
    /^\$\{?[A-Za-z_]|\$\{[A-Za-z_]|\{\{|%\([A-Za-z_]+\)s|^%[A-Za-z_]+%$|<[A-Za-z _.-]+>|^@[A-Za-z_]+@$/.test(
      value,
    )
  ) {
    return true;
  }
  if (/^(?:process\.env|os\.environ|env)\b/.test(value)) return true;
  if (/^(?:your|my|insert|enter|replace|put)[_ -]/i.test(value)) return true;
  return false;
}

// Starts at the credential word (group 1: the rest of the name) so that no unbounded name prefix is ever
// backtracked over (a long run of letters would make that quadratic); the name's start is found in code.
// Then an optional closing quote, the operator, and a quoted (2-4) or bare (5) value.
const ASSIGNMENT = new RegExp(
  String.raw`(?:${CREDENTIAL_WORDS})([A-Za-z0-9_.-]{0,64})["'\]]?[ \t]*(?::=|=>|->|=|:)[ \t]*` +
    String.raw`(?:"((?:[^"\\\n]|\\.){1,1000})"|'([^'\n]{1,1000})'|` +
    '`([^`\\n]{1,1000})`' +
    String.raw`|([^\s"'\x60]{1,1000}))`,
  'gi',
);

const NAME_CHAR = /[A-Za-z0-9_.-]/;

/** The whole name an assignment match starts inside: up to 64 name characters before the credential word. */
function nameOf(m: RegExpExecArray, text: string): { name: string; start: number } {
  let start = m.index;
  while (start > 0 && m.index - start < 64 && NAME_CHAR.test(text[start - 1]!)) start--;
  return { name: text.slice(start, m.indices![1]![1]), start };
}

/** Is `name` a credential's name (and not the name of something about one)? */
export function isCredentialName(name: string): boolean {
  const m = CREDENTIAL_NAME.exec(name);
  if (!m) return false;
  if (NOT_A_CREDENTIAL_SUFFIX.test(name)) return false;
  // The word must not run on into a longer word: `tokenizer`, `secretary`, `passwordless` are not names of
  // credentials. After the word: nothing, a separator, a digit or a camelCase capital.
  const after = name.slice(m.index + m[0].length);
  return after === '' || /^[_.\-0-9A-Z]/.test(after);
}

function assignmentSecret(m: RegExpExecArray, text: string): SecretSpan | undefined {
  const { name, start: nameStart } = nameOf(m, text);
  if (!isCredentialName(name)) return undefined;
  const quotedGroup = [2, 3, 4].find((g) => m[g] !== undefined);
  if (quotedGroup !== undefined) {
    const span = groupSpan(m, quotedGroup)!;
    return isPlaceholder(text.slice(span.start, span.end)) ? undefined : span;
  }
  const token = groupSpan(m, 5);
  if (!token) return undefined;
  // A whole-line `NAME=value` / `name: value` (.env, shell, YAML, INI, properties) holds a literal, whatever
  // it looks like (punctuation included) up to the end of the line or a comment.
  const lineStart = text.lastIndexOf('\n', nameStart - 1) + 1;
  const before = text.slice(lineStart, nameStart);
  const lineEnd = text.indexOf('\n', token.end);
  const after = text.slice(token.end, lineEnd === -1 ? text.length : lineEnd);
  const wholeLine =
    /^[ \t]*(?:export[ \t]+|-[ \t]+|set[ \t]+)?["']?$/.test(before) && /^[ \t]*(?:#.*)?\r?$/.test(after);
  const whole = text.slice(token.start, token.end);
  // Inline, the value ends at a delimiter of the surrounding syntax (`;Password=…;`, `?password=…&`, a call's
  // `)`): the scan resumes there, so a second credential in the same token is still seen.
  const cut = wholeLine ? -1 : whole.search(/[,;&)}\]<>([]/);
  const span = cut === -1 ? token : { start: token.start, end: token.start + cut };
  ASSIGNMENT.lastIndex = Math.max(span.end, m.index + 1);
  const value = text.slice(span.start, span.end);
  if (value.length === 0 || isPlaceholder(value)) return undefined;
  if (/^\d{1,9}$/.test(value)) return undefined; // max_token: 2048, token_limit = 100
  // Code, not a literal: a member (`settings.API_KEY`, `self.password`), a call or an index.
  if (/^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+$/.test(value)) return undefined;
  if (wholeLine) return span;
  const next = text[span.end];
  if (next === '(' || next === '[') return undefined;
  // Inline, a bare identifier is a variable (`connect(password=password)`): only a value with a digit or
  // punctuation counts, as in `;Password=Xy7!…;` or `?password=…&`.
  if (/^[A-Za-z_]+$/.test(value)) return undefined;
  return span;
}

// scheme://user:password@host — the password may hold any punctuation but whitespace, quotes and `/?#`;
// greedy, so a password with `@` runs to the last `@` before the host.
const URL_CREDENTIALS =
  /\b[a-zA-Z][a-zA-Z0-9+.-]{1,40}:\/\/([^\s:/?#@"'<>`]{0,256}):([^\s/?#"'<>`]{1,256})@(?=[\w.[\]-])/g;

const AUTHORIZATION =
  /\b(?:proxy-)?authorization["']?[ \t]*[:=][ \t]*["']?(?:basic|bearer|token|digest|negotiate|apikey|sso-key)[ \t]+([A-Za-z0-9+/=._~:-]{8,})/gi;

const AZURE_SAS_SIGNATURE = /[?&;]sig=([A-Za-z0-9%+/=]{20,})/g;

// Token formats gitleaks v8.30 has no rule for.
const KNOWN_TOKENS = new RegExp(
  [
    String.raw`\bsq0csp-[\w-]{43}`, // Square OAuth application secret
    String.raw`\bdckr_pat_[\w-]{27}`, // Docker Hub personal access token
    String.raw`\b[MNO][A-Za-z\d]{23,27}\.[\w-]{6}\.[\w-]{27,38}`, // Discord bot token
    String.raw`discord(?:app)?\.com/api/webhooks/\d{15,20}/([\w-]{60,})`, // Discord webhook: its token
  ].join('|'),
  'g',
);

// curl -u user:password / --user user:password
const CURL_USER = /\s(?:-u|--user)[ \t=]+["']?([^\s:"']{1,128}):([^\s"']{3,256})/g;

export function genesisRules(): PatternRule[] {
  const valueOf = (group: number) => (m: RegExpExecArray, text: string) => {
    const span = groupSpan(m, group);
    return span && !isPlaceholder(text.slice(span.start, span.end)) ? span : undefined;
  };
  return [
    {
      id: 'genesis:assignment',
      name: 'assignment',
      description: 'a value assigned to a name that says it is a credential',
      regex: ASSIGNMENT,
      keywords: ['pass', 'pwd', 'secret', 'token', 'key', 'cred', 'dsn', 'conn', 'webhook'],
      secret: assignmentSecret,
    },
    {
      id: 'genesis:url-credentials',
      name: 'url-credentials',
      description: 'the password part of a URL',
      regex: URL_CREDENTIALS,
      keywords: ['://'],
      secret: valueOf(2),
    },
    {
      id: 'genesis:authorization-header',
      name: 'authorization-header',
      description: 'the credentials of an Authorization header',
      regex: AUTHORIZATION,
      keywords: ['authorization'],
      secret: valueOf(1),
    },
    {
      id: 'genesis:azure-sas-signature',
      name: 'azure-sas-signature',
      description: 'the signature of an Azure shared access signature',
      regex: AZURE_SAS_SIGNATURE,
      keywords: ['sig='],
      secret: valueOf(1),
    },
    {
      id: 'genesis:known-token',
      name: 'known-token',
      description: 'a token in a provider format gitleaks has no rule for',
      regex: KNOWN_TOKENS,
      keywords: [],
      secret: (m) => groupSpan(m, m[1] !== undefined ? 1 : 0),
    },
    {
      id: 'genesis:curl-user',
      name: 'curl-user',
      description: 'the password of a curl -u user:password',
      regex: CURL_USER,
      keywords: ['-u', '--user'],
      secret: valueOf(2),
    },
  ];
}
