import { loadConfigOrExit, readServiceConfig } from '@genesis/config';
import { bootstrapService } from '@genesis/observability';
import { AppModule } from './app/app.module';

const config = loadConfigOrExit('trainer-bridge', (env) => readServiceConfig(env, 'trainer-bridge'));

void bootstrapService({
  service: 'trainer-bridge',
  module: AppModule.forRoot(config),
  port: config.port,
  host: config.host,
});
