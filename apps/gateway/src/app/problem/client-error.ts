import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';

/**
 * Node refuses some requests before Fastify sees them (headers over 16 KiB: 431, a request that
 * does not parse: 400, too slow: 408). Fastify's default answer is plain JSON; this one is the same
 * problem+json with a stable code as every other answer of the gateway.
 */
export function problemClientErrorHandler(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, code] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'HEADERS_TOO_LARGE']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'REQUEST_TIMEOUT']
        : [400, 'BAD_REQUEST'];
  const title = STATUS_CODES[status] ?? 'Bad request';
  const body = JSON.stringify({
    type: `https://genesis.dev/problems/${code.toLowerCase().replace(/_/g, '-')}`,
    title,
    status,
    code,
    detail: status === 431 ? 'the request line and headers exceed 16 KiB' : 'the request is not valid HTTP',
  });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${title}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `Content-Type: application/problem+json\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(err);
}
