// After tsc: make dist/ self-contained, so an image needs only dist/ and node_modules/.
//  - dist/apps/<app>/main.js -> ./src/main.js, so every service starts as `node dist/apps/<app>/main.js`
//    (the path the docs, Dockerfiles and k8s manifests use);
//  - the contract schemas, evaluation suites and the OpenAPI document, which services read at run time.
import { cpSync, existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = process.cwd();
const appsDir = join(root, 'dist', 'apps');
for (const app of existsSync(appsDir) ? readdirSync(appsDir) : []) {
  if (existsSync(join(appsDir, app, 'src', 'main.js'))) {
    writeFileSync(join(appsDir, app, 'main.js'), "'use strict';\nrequire('./src/main.js');\n");
  }
}
// The contract schemas and the evaluation suites shipped with the project (a file deleted from the
// source must not linger).
for (const dir of ['schemas', 'suites', 'semantic']) {
  const target = join(root, 'dist', 'libs', 'contracts', dir);
  rmSync(target, { recursive: true, force: true });
  cpSync(join(root, 'libs', 'contracts', dir), target, { recursive: true });
}
cpSync(join(root, 'docs', 'openapi.yaml'), join(root, 'dist', 'docs', 'openapi.yaml'));
