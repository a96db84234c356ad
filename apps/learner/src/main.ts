import { loadConfigOrExit } from '@genesis/config';
import { bootstrapService } from '@genesis/observability';
import { AppModule } from './app/app.module';
import { readLearnerConfig } from './app/learner.config';

const config = loadConfigOrExit('learner', readLearnerConfig);

void bootstrapService({
  service: 'learner',
  module: AppModule.forRoot(config),
  port: config.port,
  host: config.host,
});
