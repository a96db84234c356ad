import { createHash } from 'node:crypto';
import { redactManyLearningFields, redactSecrets } from './redaction';

const decoder = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();
const UNSCANNED = '[UNSCANNED]';

/**
 * A dead letter's payload cleaned like a stored learning (ADR 0012): every string of the JSON, keys
 * included, with its secrets replaced by markers. A payload that is not UTF-8 JSON cannot be walked, so
 * it is withheld: the dead letter keeps its size and sha256 (to match it with a client's copy), not its
 * bytes. Never throws.
 */
export async function redactJsonPayload(data: Uint8Array): Promise<Uint8Array> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(decoder.decode(data));
  } catch {
    return withheld(data, 'not UTF-8 JSON, so it could not be cleaned of secrets');
  }
  try {
    const strings = new Set<string>();
    collect(parsed, strings);
    const list = [...strings];
    const [cleaned] = await redactManyLearningFields([
      Object.fromEntries(list.map((s, i) => [String(i), s])),
    ]);
    const byText = new Map(list.map((s, i) => [s, cleaned!.fields[String(i)] ?? UNSCANNED]));
    return encoder.encode(JSON.stringify(rebuild(parsed, byText)));
  } catch {
    return withheld(data, 'could not be cleaned of secrets');
  }
}

/** A dead letter's reason (it goes to headers and logs) with its secrets replaced. Never throws. */
export async function redactReason(reason: string): Promise<string> {
  try {
    return (await redactSecrets(reason)).text;
  } catch {
    return 'reason withheld: it could not be cleaned of secrets';
  }
}

function withheld(data: Uint8Array, why: string): Uint8Array {
  return encoder.encode(
    JSON.stringify({
      withheld: `payload withheld: ${why}`,
      bytes: data.byteLength,
      sha256: createHash('sha256').update(data).digest('hex'),
    }),
  );
}

function collect(value: unknown, out: Set<string>): void {
  if (typeof value === 'string') out.add(value);
  else if (Array.isArray(value)) value.forEach((v) => collect(v, out));
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      out.add(k);
      collect(v, out);
    }
  }
}

function rebuild(value: unknown, byText: Map<string, string>): unknown {
  if (typeof value === 'string') return byText.get(value) ?? UNSCANNED;
  if (Array.isArray(value)) return value.map((v) => rebuild(v, byText));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    let key = byText.get(k) ?? UNSCANNED;
    for (let n = 2; Object.prototype.hasOwnProperty.call(out, key); n++)
      key = `${byText.get(k) ?? UNSCANNED}#${n}`;
    Object.defineProperty(out, key, {
      value: rebuild(v, byText),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}
