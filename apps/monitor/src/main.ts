import { loadConfigOrExit } from '@genesis/config';
import { bootstrapService } from '@genesis/observability';
import { AppModule } from './app/app.module';
import { readMonitorConfig } from './app/monitor.config';
import { runOnce } from './app/once/run-once';

const config = loadConfigOrExit('monitor', readMonitorConfig);

if (process.argv.includes('--once')) {
  // stdout is for the decision lines; JSON info logs would drown them (GENESIS_LOG_LEVEL still wins).
  process.env['GENESIS_LOG_LEVEL'] ??= 'warn';
  void runOnce(config, process.argv);
} else {
  void bootstrapService({
    service: 'monitor',
    module: AppModule.forRoot(config),
    port: config.port,
    host: config.host,
  });
}
