import { loadConfigOrExit } from '@genesis/config';
import { bootstrapService } from '@genesis/observability';
import { AppModule } from './app/app.module';
import { readBridgeConfig } from './app/trainer-bridge.config';

const config = loadConfigOrExit('trainer-bridge', readBridgeConfig);

void bootstrapService({
  service: 'trainer-bridge',
  module: AppModule.forRoot(config),
  port: config.port,
  host: config.host,
});
