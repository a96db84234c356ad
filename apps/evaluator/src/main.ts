import { loadConfigOrExit } from '@genesis/config';
import { bootstrapService } from '@genesis/observability';
import { AppModule } from './app/app.module';
import { readEvaluatorConfig } from './app/evaluator.config';

const config = loadConfigOrExit('evaluator', readEvaluatorConfig);

void bootstrapService({
  service: 'evaluator',
  module: AppModule.forRoot(config),
  port: config.port,
  host: config.host,
});
