export interface HttpResult<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface RequestOptions {
  method?: string;
  key?: string;
  json?: unknown;
  raw?: string | Uint8Array;
  headers?: Record<string, string>;
}

/** A small fetch wrapper for tests: JSON in, parsed JSON (or text) out, never throws on 4xx/5xx. */
export async function request<T = Record<string, unknown>>(
  baseUrl: string,
  path: string,
  { method, key, json, raw, headers = {} }: RequestOptions = {},
): Promise<HttpResult<T>> {
  const h: Record<string, string> = { ...headers };
  if (key) h['authorization'] = `Bearer ${key}`;
  let body: string | Uint8Array | undefined = raw;
  if (json !== undefined) {
    body = JSON.stringify(json);
    h['content-type'] ??= 'application/json';
  } else if (raw !== undefined) h['content-type'] ??= 'application/json';
  const res = await fetch(`${baseUrl}${path}`, {
    method: method ?? (body === undefined ? 'GET' : 'POST'),
    headers: h,
    body,
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, headers: res.headers, body: parsed as T, text };
}
