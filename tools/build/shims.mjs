// Writes dist/apps/<app>/main.js -> ./src/main.js so every service starts as
// `node dist/apps/<app>/main.js` (the path the docs, Dockerfiles and k8s manifests use).
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const appsDir = join(process.cwd(), 'dist', 'apps');
for (const app of existsSync(appsDir) ? readdirSync(appsDir) : []) {
  if (existsSync(join(appsDir, app, 'src', 'main.js'))) {
    writeFileSync(join(appsDir, app, 'main.js'), "'use strict';\nrequire('./src/main.js');\n");
  }
}
