import { loadConfigOrExit } from '@genesis/config';
import { bootstrapService } from '@genesis/observability';
import { AppModule } from './app/app.module';
import { readMonitorConfig } from './app/monitor.config';
import { runOnce } from './app/once/run-once';

const config = loadConfigOrExit('monitor', readMonitorConfig);

if (process.argv.includes('--once')) {
  void runOnce(config, process.argv);
} else {
  void bootstrapService({ service: 'monitor', module: AppModule.forRoot(config), port: config.port, host: config.host });
}
