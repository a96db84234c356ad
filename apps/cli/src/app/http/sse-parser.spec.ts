import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SseParser } from './sse-parser';

describe('SseParser', () => {
  it('parses events split across chunks at any point, skipping comments and retry', () => {
    const stream =
      'retry: 2000\n\n: heartbeat\n\nevent: ready\ndata: {"a":1}\n\nid: 7\ndata: {"type":"x"}\n\n';
    for (let cut = 0; cut <= stream.length; cut++) {
      const p = new SseParser();
      const events = [...p.feed(stream.slice(0, cut)), ...p.feed(stream.slice(cut))];
      assert.deepEqual(events, [
        { event: 'ready', data: '{"a":1}', lastEventId: '' },
        { event: 'message', data: '{"type":"x"}', lastEventId: '7' },
      ]);
    }
  });

  it('handles CRLF, multi-line data and keeps the last id across events', () => {
    const p = new SseParser();
    const events = p.feed('id: 3\r\ndata: a\r\ndata: b\r\n\r\nevent: caught_up\r\ndata: {}\r\n\r\n');
    assert.deepEqual(events, [
      { event: 'message', data: 'a\nb', lastEventId: '3' },
      { event: 'caught_up', data: '{}', lastEventId: '3' },
    ]);
  });

  it('waits for the \\n after a trailing \\r', () => {
    const p = new SseParser();
    assert.deepEqual(p.feed('data: x\r'), []);
    assert.deepEqual(p.feed('\n\r\n'), [{ event: 'message', data: 'x', lastEventId: '' }]);
  });
});
