import { loadConfigOrExit, readServiceConfig } from '@genesis/config';
import { bootstrapService } from '@genesis/observability';
import { AppModule } from './app/app.module';

const config = loadConfigOrExit('deployer', (env) => readServiceConfig(env, 'deployer'));

void bootstrapService({
  service: 'deployer',
  module: AppModule.forRoot(config),
  port: config.port,
  host: config.host,
});
