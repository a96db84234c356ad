/** One Server-Sent Event as dispatched by the WHATWG parsing rules (HTML §9.2.6). */
export interface ServerSentEvent {
  /** "message" when the server gave no `event:` field. */
  event: string;
  data: string;
  /** The last `id:` seen on the stream so far (what Last-Event-ID should carry). */
  lastEventId: string;
}

/**
 * An incremental SSE parser: feed it decoded text as it arrives, get complete events back.
 * Comments (heartbeats) and `retry:` are consumed silently.
 */
export class SseParser {
  private buffer = '';
  private event = '';
  private data: string[] = [];
  lastEventId = '';

  feed(chunk: string): ServerSentEvent[] {
    this.buffer += chunk;
    const out: ServerSentEvent[] = [];
    for (;;) {
      const match = /\r\n|\r|\n/.exec(this.buffer);
      // A lone \r at the very end may be the first half of \r\n: wait for more.
      if (!match || (match[0] === '\r' && match.index === this.buffer.length - 1)) break;
      const line = this.buffer.slice(0, match.index);
      this.buffer = this.buffer.slice(match.index + match[0].length);
      const event = this.line(line);
      if (event) out.push(event);
    }
    return out;
  }

  private line(line: string): ServerSentEvent | undefined {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.event = value;
    else if (field === 'data') this.data.push(value);
    else if (field === 'id' && !value.includes('\0')) this.lastEventId = value;
    return undefined;
  }

  private dispatch(): ServerSentEvent | undefined {
    const event = this.event || 'message';
    const data = this.data;
    this.event = '';
    this.data = [];
    if (data.length === 0) return undefined;
    return { event, data: data.join('\n'), lastEventId: this.lastEventId };
  }
}
