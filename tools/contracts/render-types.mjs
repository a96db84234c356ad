// `npm run contracts:types`: writes libs/contracts/src/generated/ (TypeScript types) from the JSON
// Schemas in libs/contracts/schemas/, the one source of what crosses a process (ADR 0026).
// `--check` writes nothing and exits 1 when a committed file is stale, missing or left over.
//
// Plain JavaScript on purpose: it must run before `npm run build` (a merge that adds a schema and the
// code using its type does not compile until the types are generated), and fast (one process, no tsc).
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compile } from 'json-schema-to-typescript';
import prettier from 'prettier';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SCHEMAS = join(REPO, 'libs', 'contracts', 'schemas');
const OUT = join(REPO, 'libs', 'contracts', 'src', 'generated');
const COMMAND = 'npm run contracts:types';

/** events/jobs.train.v1.schema.json → JobsTrainV1; api/learning-input.schema.json → LearningInput. */
export function typeName(file) {
  const base = file
    .split('/')
    .pop()
    .replace(/\.schema\.json$/, '');
  return base
    .split(/[._-]+/)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}

/** Every schema file, relative to SCHEMAS, in a stable order. */
function schemaFiles(dir = SCHEMAS) {
  const found = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...schemaFiles(path));
    else if (entry.name.endsWith('.schema.json')) found.push(relative(SCHEMAS, path));
  }
  return found.sort();
}

/** Where the types of `file` go: events/jobs.train.v1.schema.json → events/jobs.train.v1.ts. */
function outputPath(file) {
  return file.replace(/\.schema\.json$/, '.ts');
}

const banner = (file) =>
  `/* Generated from libs/contracts/schemas/${file} by \`${COMMAND}\`: do not edit (ADR 0026). */`;

async function format(code, path) {
  const config = (await prettier.resolveConfig(path)) ?? {};
  return prettier.format(code, { ...config, filepath: path });
}

/** The generated files, path (relative to OUT) → content. */
export async function renderTypes() {
  const files = new Map();
  const index = [];
  for (const file of schemaFiles()) {
    const schema = JSON.parse(readFileSync(join(SCHEMAS, file), 'utf8'));
    const name = typeName(file);
    // The root type is named after the file, not its title (a sentence); the title opens its comment.
    const description = [schema.title, schema.description].filter(Boolean).join('\n\n');
    const named = { ...schema, title: name, ...(description ? { description } : {}) };
    const code = await compile(named, name, {
      bannerComment: banner(file),
      // JSON Schema's own default: an object that does not close itself may carry more properties.
      additionalProperties: true,
      unknownAny: true,
      // minItems/maxItems stay with the validator: tuples of every allowed length help nobody.
      ignoreMinAndMaxItems: true,
      // As Record<string, T> reads everywhere else here (no noUncheckedIndexedAccess).
      strictIndexSignatures: false,
      format: false,
      // $refs are local (#/definitions/...); nothing is fetched.
      $refOptions: { resolve: { external: false } },
    });
    const out = outputPath(file);
    files.set(out, await format(code, join(OUT, out)));
    index.push(`export type { ${name} } from './${out.replace(/\.ts$/, '')}';`);
  }
  const head = `/* Generated from libs/contracts/schemas/ by \`${COMMAND}\`: do not edit (ADR 0026). */\n`;
  files.set('index.ts', await format(head + index.join('\n') + '\n', join(OUT, 'index.ts')));
  return files;
}

function existingFiles(dir = OUT) {
  if (!existsSync(dir)) return [];
  const found = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...existingFiles(path));
    else found.push(relative(OUT, path));
  }
  return found;
}

async function main() {
  const check = process.argv.includes('--check');
  const rendered = await renderTypes();
  const stale = [];
  for (const [path, content] of rendered) {
    const full = join(OUT, path);
    const current = existsSync(full) ? readFileSync(full, 'utf8') : undefined;
    if (current === content) continue;
    stale.push(path);
    if (!check) {
      mkdirSync(dirname(full), { recursive: true });
      writeFileSync(full, content);
    }
  }
  const leftOver = existingFiles().filter((path) => !rendered.has(path));
  for (const path of leftOver) if (!check) rmSync(join(OUT, path));
  const where = relative(REPO, OUT);
  if (check && stale.length + leftOver.length > 0) {
    const list = [...stale, ...leftOver.map((p) => `${p} (no schema)`)].join(', ');
    process.stderr.write(`[genesis:contracts] ${where} is out of date (${list}): run \`${COMMAND}\`\n`);
    process.exit(1);
  }
  const changed = stale.length + leftOver.length;
  process.stdout.write(
    changed === 0
      ? `${where} is up to date\n`
      : `${where}: wrote ${stale.length}, removed ${leftOver.length}\n`,
  );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
