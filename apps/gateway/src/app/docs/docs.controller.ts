import { Controller, Get, Header, Param, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parse } from 'yaml';
import { problems } from '../problem/problem';

/** docs/openapi.yaml is the contract; the build copies it to dist/docs. Read once, served as JSON. */
const specPath = join(__dirname, '..', '..', '..', '..', '..', 'docs', 'openapi.yaml');
const spec: unknown = parse(readFileSync(specPath, 'utf8'));
// Resolved by path: requiring 'swagger-ui-dist' would load its whole 1 MB bundle into the gateway.
const SWAGGER_UI_DIR = dirname(require.resolve('swagger-ui-dist/package.json'));
const ASSETS = new Set(['swagger-ui.css', 'swagger-ui-bundle.js', 'swagger-ui-standalone-preset.js']);

const PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>Genesis API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css"></head><body><div id="ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({ url: '/docs/openapi.json', dom_id: '#ui' });</script></body></html>`;

@Controller('docs')
export class DocsController {
  @Get()
  @Header('content-type', 'text/html; charset=utf-8')
  page(): string {
    return PAGE;
  }

  @Get('openapi.json')
  openapi(): unknown {
    return spec;
  }

  @Get('assets/:file')
  asset(@Param('file') file: string, @Res() reply: FastifyReply): void {
    const path = join(SWAGGER_UI_DIR, file);
    if (!ASSETS.has(file) || !existsSync(path))
      throw problems.notFound('ASSET_NOT_FOUND', `no asset ${file}`);
    void reply
      .header('content-type', file.endsWith('.css') ? 'text/css' : 'application/javascript')
      .send(createReadStream(path));
  }
}
