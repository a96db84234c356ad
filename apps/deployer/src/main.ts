import { loadConfigOrExit } from '@genesis/config';
import { bootstrapService } from '@genesis/observability';
import { AppModule } from './app/app.module';
import { readDeployerConfig } from './app/deployer.config';

const config = loadConfigOrExit('deployer', readDeployerConfig);

void bootstrapService({
  service: 'deployer',
  module: AppModule.forRoot(config),
  port: config.port,
  host: config.host,
});
