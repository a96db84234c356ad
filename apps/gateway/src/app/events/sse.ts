/** Server-Sent Events framing (WHATWG HTML §9.2): one `field: value` per line, a blank line ends an event. */
export interface SseEvent {
  id?: string;
  event?: string;
  /** Must not contain line breaks (JSON.stringify output never does). */
  data: string;
}

export function sseEvent({ id, event, data }: SseEvent): string {
  return `${id !== undefined ? `id: ${id}\n` : ''}${event ? `event: ${event}\n` : ''}data: ${data}\n\n`;
}

/** A comment line: ignored by clients, keeps proxies and idle timers from closing the connection. */
export function sseComment(text: string): string {
  return `: ${text.replace(/[\r\n]+/g, ' ')}\n\n`;
}
