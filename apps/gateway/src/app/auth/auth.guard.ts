import { Inject, Injectable, SetMetadata, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { problems } from '../problem/problem';
import { allows, ApiKeyRing, type ApiKey, type Scope } from './api-keys';

const SCOPE_KEY = 'genesis:scope';
/** The scope a route needs. */
export const RequireScope = (scope: Scope) => SetMetadata(SCOPE_KEY, scope);

export type AuthedRequest = FastifyRequest & { apiKey?: ApiKey };

/** Bearer API keys with scopes: no key → 401, wrong scope → 403. Routes without a scope are public. */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(ApiKeyRing) private readonly keys: ApiKeyRing,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const scope = this.reflector.get<Scope | undefined>(SCOPE_KEY, context.getHandler());
    if (!scope) return true;
    const request = context.switchToHttp().getRequest<AuthedRequest>();
    // The edge hook (http/edge-hooks.ts) has found the key already, before the body was read.
    const key = request.apiKey ?? this.authenticate(request);
    if (!allows(key, scope)) throw problems.forbidden(scope);
    request.apiKey = key;
    return true;
  }

  private authenticate(request: AuthedRequest): ApiKey {
    const match = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '');
    if (!match) throw problems.unauthorized('send "Authorization: Bearer <api key>"');
    const key = this.keys.find(match[1]!);
    if (!key) throw problems.unauthorized('unknown API key');
    return key;
  }
}
