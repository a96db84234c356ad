#!/usr/bin/env node
// The `genesis` command (package.json "bin"): the CLI compiled by `npm run build` (apps/cli).
'use strict';
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const main = join(__dirname, '..', 'dist', 'apps', 'cli', 'main.js');
if (!existsSync(main)) {
  process.stderr.write(`genesis: ${main} is missing; run \`npm run build\` first\n`);
  process.exit(2);
}
require(main);
