/**
 * What a version's artifact is. Only `lora-adapter` is produced today; the others are the kinds
 * the optimisation and distillation tasks will register (ADR 0022). A deployment target declares
 * the kinds it can serve, and the deployer refuses any other with ARTIFACT_KIND_NOT_SERVABLE.
 */
export const ARTIFACT_KINDS = ['lora-adapter', 'merged', 'quantised', 'distilled'] as const;
export type ArtifactKind = (typeof ARTIFACT_KINDS)[number];

export function isArtifactKind(value: unknown): value is ArtifactKind {
  return typeof value === 'string' && (ARTIFACT_KINDS as readonly string[]).includes(value);
}
