// After tsc: make dist/ self-contained, so an image needs only dist/ and node_modules/.
//  - dist/apps/<app>/main.js -> ./src/main.js, so every service starts as `node dist/apps/<app>/main.js`
//    (the path the docs, Dockerfiles and k8s manifests use);
//  - the contract schemas and the OpenAPI document, which services read at run time.
import { cpSync, existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = process.cwd();
const appsDir = join(root, 'dist', 'apps');
for (const app of existsSync(appsDir) ? readdirSync(appsDir) : []) {
  if (existsSync(join(appsDir, app, 'src', 'main.js'))) {
    writeFileSync(join(appsDir, app, 'main.js'), "'use strict';\nrequire('./src/main.js');\n");
  }
}
const schemas = join(root, 'dist', 'libs', 'contracts', 'schemas');
rmSync(schemas, { recursive: true, force: true }); // a schema deleted from the source must not linger
cpSync(join(root, 'libs', 'contracts', 'schemas'), schemas, {
  recursive: true,
});
cpSync(join(root, 'docs', 'openapi.yaml'), join(root, 'dist', 'docs', 'openapi.yaml'));
