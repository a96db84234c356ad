import type { ValidationIssue } from './validation';

// An unpaired UTF-16 surrogate: a high one not followed by a low one, or a low one not preceded by a high one.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function textProblem(s: string): string | undefined {
  if (s.includes('\u0000')) return 'contains U+0000 (NUL), which text cannot store';
  if (LONE_SURROGATE.test(s)) {
    return 'contains an unpaired UTF-16 surrogate (a \\uD800–\\uDFFF escape), which is not Unicode text';
  }
  return undefined;
}

/**
 * The first string (value or key, at any depth) that Postgres cannot store as it is: U+0000, or an
 * unpaired surrogate. Both arrive only as JSON escapes (`\u0000`, `\ud800`) — raw bytes of either
 * are not valid UTF-8 or JSON — and both would otherwise fail the insert again on every retry, or be
 * replaced by U+FFFD on the way into a text column without anyone being told.
 */
export function findUnstorableText(value: unknown, path = ''): ValidationIssue | undefined {
  const found = find(value);
  return found && { path: `${path}${found.path}` || '/', message: found.message };
}

/**
 * A value still to look at, or an object key to check (`key` set), with the key or index that reached it
 * from its parent: the path is only put together (and escaped) from those links once something is
 * found, so the common, clean case pays nothing for it.
 */
interface Pending {
  value: unknown;
  key?: string;
  parent?: Pending;
  /** The key or array index under the parent; undefined for the root. */
  segment?: string | number;
}

/**
 * Depth-first, in document order (an object's key before its value, keys in order), with an explicit
 * stack: an envelope from the bus or a body is nested as deep as its sender likes, and a recursive walk
 * would overflow the call stack (a RangeError, i.e. a 5xx or a crashed consumer) before any rule ran.
 */
function find(root: unknown): ValidationIssue | undefined {
  const stack: Pending[] = [{ value: root }];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (node.key !== undefined) {
      const keyProblem = textProblem(node.key);
      if (keyProblem) return { path: pathOf(node), message: `key ${keyProblem}` };
      continue;
    }
    const { value } = node;
    if (typeof value === 'string') {
      const message = textProblem(value);
      if (message) return { path: pathOf(node), message };
    } else if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push({ value: value[i], parent: node, segment: i });
    } else if (value !== null && typeof value === 'object') {
      const keys: string[] = [];
      for (const key in value) keys.push(key);
      for (let i = keys.length - 1; i >= 0; i--) {
        const key = keys[i]!;
        stack.push({ value: (value as Record<string, unknown>)[key], parent: node, segment: key });
        stack.push({ value: undefined, key, parent: node, segment: key });
      }
    }
  }
  return undefined;
}

function pathOf(node: Pending): string {
  const steps: string[] = [];
  for (let n: Pending | undefined = node; n?.segment !== undefined; n = n.parent) {
    steps.push(`/${escapePointer(String(n.segment))}`);
  }
  return steps.reverse().join('');
}

/** JSON Pointer escaping (RFC 6901), with the offending characters shown as escapes. */
function escapePointer(key: string): string {
  return key
    .replace(/~/g, '~0')
    .replace(/\//g, '~1')
    .replaceAll('\u0000', '\\u0000')
    .replace(new RegExp(LONE_SURROGATE.source, 'g'), (c) => `\\u${c.charCodeAt(0).toString(16)}`);
}

/**
 * Marks a string stored in its escaped form (ADR 0014). Text that a model generated must be kept
 * as it was, yet Postgres refuses U+0000 and unpaired surrogates in text and jsonb alike: such a
 * string is stored as this marker + the text with `\` doubled and each refused character written as
 * a `\uXXXX` escape. A string that happens to start with the marker is escaped too, so decoding
 * is exact for every input; a string with neither is stored unchanged (the common case costs nothing).
 */
export const ESCAPED_TEXT_MARKER = '[genesis:escaped-v1]';

const REFUSED_OR_BACKSLASH = new RegExp(`\\\\|\\u0000|${LONE_SURROGATE.source}`, 'g');
const ESCAPE_SEQUENCE = /\\(\\|u[0-9a-f]{4})/g;

/** The text as Postgres can store it: unchanged when it can, else the marker and its escaped form. */
export function toStorableText(s: string): string {
  if (textProblem(s) === undefined && !s.startsWith(ESCAPED_TEXT_MARKER)) return s;
  return (
    ESCAPED_TEXT_MARKER +
    s.replace(REFUSED_OR_BACKSLASH, (c) =>
      c === '\\' ? '\\\\' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
    )
  );
}

/** The exact inverse of toStorableText. */
export function fromStorableText(s: string): string {
  if (!s.startsWith(ESCAPED_TEXT_MARKER)) return s;
  return s
    .slice(ESCAPED_TEXT_MARKER.length)
    .replace(ESCAPE_SEQUENCE, (_, e: string) =>
      e === '\\' ? '\\' : String.fromCharCode(parseInt(e.slice(1), 16)),
    );
}

/** toStorableText over every string (keys included) of a JSON value, for a jsonb column. */
export function toStorableJson<T>(value: T): T {
  return mapStrings(value, toStorableText) as T;
}

/** fromStorableText over every string (keys included) of a JSON value read back from a jsonb column. */
export function fromStorableJson<T>(value: T): T {
  return mapStrings(value, fromStorableText) as T;
}

/**
 * f over every string (keys included) of a JSON value, into a new value. Iterative, with an explicit
 * stack of containers still to fill, for the reason find() is: a jsonb value or a body nests as deep
 * as its sender likes, and a recursive copy would overflow the call stack (a RangeError, i.e. a 5xx
 * or a consumer that fails the same message on every redelivery).
 */
function mapStrings(root: unknown, f: (s: string) => string): unknown {
  const todo: [source: object, copy: unknown[] | Record<string, unknown>][] = [];
  // A string is mapped at once; a container gets an empty copy now, filled when popped.
  const start = (value: unknown): unknown => {
    if (typeof value === 'string') return f(value);
    if (value === null || typeof value !== 'object') return value;
    const copy: unknown[] | Record<string, unknown> = Array.isArray(value) ? new Array(value.length) : {};
    todo.push([value, copy]);
    return copy;
  };
  const out = start(root);
  while (todo.length > 0) {
    const [source, copy] = todo.pop()!;
    if (Array.isArray(source)) {
      for (let i = 0; i < source.length; i++) (copy as unknown[])[i] = start(source[i]);
    } else {
      for (const [k, v] of Object.entries(source)) {
        // defineProperty, not `copy[k] =`: a key named "__proto__" (JSON.parse makes it an own key)
        // must stay a key, not replace the copy's prototype and vanish.
        Object.defineProperty(copy, f(k), {
          value: start(v),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
    }
  }
  return out;
}
