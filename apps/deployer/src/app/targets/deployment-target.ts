import type { AdapterRef, DeploymentTargetName } from '@genesis/contracts';
import type { ArtifactKind } from '@genesis/registry';

/** A registry version as a serving target needs it. */
export interface DeployableVersion {
  model_id: string;
  version: string;
  base_model: string;
  artifact: AdapterRef;
}

/** Why a deployment failed; `retryable` false skips the remaining attempts. */
export class DeploymentError extends Error {
  constructor(
    message: string,
    readonly retryable = true,
  ) {
    super(message);
    this.name = 'DeploymentError';
  }
}

/**
 * The serving port. `deploy` makes `version` serve as the champion and must be idempotent (a
 * deployer killed half-way deploys again); `retire` frees what an earlier champion held, best effort.
 */
export interface DeploymentTarget {
  readonly name: DeploymentTargetName;
  /** The artifact kinds it can serve; the deployer refuses any other before calling it (ADR 0022). */
  readonly artifactKinds: readonly ArtifactKind[];
  deploy(version: DeployableVersion): Promise<{ servedAs: string }>;
  retire(version: DeployableVersion, servedAs: string): Promise<void>;
}

/** JSON over HTTP with a timeout; any non-2xx is a DeploymentError naming the endpoint and the answer. */
export async function callJson(
  method: string,
  url: string,
  body: unknown,
  timeoutMs: number,
  headers: Record<string, string> = {},
): Promise<{ status: number; text: string }> {
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers: body instanceof Uint8Array ? headers : { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : body instanceof Uint8Array ? body : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    throw new DeploymentError(`${method} ${url}: ${(err as Error).message}`);
  }
  const text = await res.text();
  if (res.status < 200 || res.status > 299) {
    // 4xx means the request itself is wrong (retrying cannot help), except a timeout or rate limit.
    const retryable = res.status >= 500 || res.status === 408 || res.status === 429;
    throw new DeploymentError(`${method} ${url} → ${res.status} ${text.slice(0, 300)}`, retryable);
  }
  return { status: res.status, text };
}
