import { loadConfigOrExit } from '@genesis/config';
import { bootstrapService } from '@genesis/observability';
import { AppModule } from './app/app.module';
import { readGatewayConfig } from './app/gateway.config';
import { installStrictJsonParser } from './app/http/json-body';

const config = loadConfigOrExit('gateway', readGatewayConfig);

void bootstrapService({
  service: 'gateway',
  module: AppModule.forRoot(config),
  port: config.port,
  host: config.host,
  bodyLimit: config.maxBodyBytes,
  configure: (app) => installStrictJsonParser(app, config.maxBodyBytes),
});
