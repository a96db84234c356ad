import type { FastifyInstance } from 'fastify';
import { counter, histogram } from './metrics';

/** RED metrics for every HTTP route, labelled by the route pattern (never the raw URL). */
export function installHttpMetrics(app: FastifyInstance): void {
  const requests = counter('genesis_http_requests_total', 'HTTP requests by route and status', [
    'method',
    'route',
    'status',
  ]);
  const duration = histogram('genesis_http_request_duration_seconds', 'HTTP request latency', [
    'method',
    'route',
    'status',
  ]);
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const labels = { method: request.method, route, status: String(reply.statusCode) };
    requests.inc(labels);
    duration.observe(labels, reply.elapsedTime / 1000);
    done();
  });
}
