import { loadConfigOrExit } from '@genesis/config';
import { bootstrapService } from '@genesis/observability';
import { AppModule } from './app/app.module';
import { readGatewayConfig } from './app/gateway.config';
import { installEdgeHooks } from './app/http/edge-hooks';
import { installStrictJsonParser } from './app/http/json-body';
import { problemClientErrorHandler } from './app/problem/client-error';
import { sendProblem, toProblem } from './app/problem/problem.filter';

const config = loadConfigOrExit('gateway', readGatewayConfig);

void bootstrapService({
  service: 'gateway',
  module: AppModule.forRoot(config),
  port: config.port,
  host: config.host,
  bodyLimit: config.maxBodyBytes,
  trustProxy: config.trustedProxies || false,
  bodyParser: false,
  fastify: {
    clientErrorHandler: problemClientErrorHandler,
    frameworkErrors: (error, request, reply) => sendProblem(reply, request.url, toProblem(error)),
  },
  configure: (app) => {
    installEdgeHooks(app, config);
    installStrictJsonParser(app, config.maxBodyBytes);
  },
});
