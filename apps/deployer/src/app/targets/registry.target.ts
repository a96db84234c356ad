import { ARTIFACT_KINDS } from '@genesis/registry';
import type { DeployableVersion, DeploymentTarget } from './deployment-target';

/**
 * The default: the registry itself is what serves. The champion alias moving is the deployment;
 * clients read `GET /api/v1/models/champion` (and its adapter) from the gateway.
 */
export class RegistryTarget implements DeploymentTarget {
  readonly name = 'registry' as const;
  /** It hands out whatever the registry holds: the client loads the artifact itself. */
  readonly artifactKinds = ARTIFACT_KINDS;

  async deploy(version: DeployableVersion) {
    return { servedAs: version.version };
  }

  async retire(): Promise<void> {}
}
