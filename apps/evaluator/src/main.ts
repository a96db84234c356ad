import { loadConfigOrExit, readServiceConfig } from '@genesis/config';
import { bootstrapService } from '@genesis/observability';
import { AppModule } from './app/app.module';

const config = loadConfigOrExit('evaluator', (env) => readServiceConfig(env, 'evaluator'));

void bootstrapService({
  service: 'evaluator',
  module: AppModule.forRoot(config),
  port: config.port,
  host: config.host,
});
