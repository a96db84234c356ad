import { loadConfigOrExit, readServiceConfig } from '@genesis/config';
import { bootstrapService } from '@genesis/observability';
import { AppModule } from './app/app.module';

const config = loadConfigOrExit('monitor', (env) => readServiceConfig(env, 'monitor'));

void bootstrapService({ service: 'monitor', module: AppModule.forRoot(config), port: config.port, host: config.host });
