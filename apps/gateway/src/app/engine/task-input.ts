import {
  RUNNABLE_TASK_KINDS,
  TASK_KINDS,
  isTaskKind,
  parseTaskTargets,
  type TargetMetrics,
  type TaskConstraints,
  type TaskKind,
} from '@genesis/engine';
import { ProblemError, problems } from '../problem/problem';
import { modelIdParam } from '../improvement/model-id';

export interface CustomTaskInput {
  modelId: string;
  kind: TaskKind;
  priority: number;
  targetMetrics: TargetMetrics;
  constraints: TaskConstraints;
  reason: string | undefined;
}

const FIELDS = ['model_id', 'kind', 'priority', 'target_metrics', 'constraints', 'reason'];

/** `POST /api/v1/tasks`: every problem named with its JSON pointer (422), an unrunnable kind a 422 of its own. */
export function parseCustomTask(body: unknown): CustomTaskInput {
  const errors: { path: string; message: string }[] = [];
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw problems.validation('the body is a JSON object', [{ path: '/', message: 'must be an object' }]);
  const b = body as Record<string, unknown>;
  for (const key of Object.keys(b))
    if (!FIELDS.includes(key)) errors.push({ path: `/${key}`, message: 'is not a field of a task' });
  const kind = b['kind'] ?? 'training';
  if (!isTaskKind(kind)) errors.push({ path: '/kind', message: `must be one of ${TASK_KINDS.join(', ')}` });
  const priority = b['priority'] ?? 1;
  if (typeof priority !== 'number' || !Number.isFinite(priority) || priority < 0 || priority > 1000)
    errors.push({ path: '/priority', message: 'must be a number from 0 to 1000' });
  // Closed vocabularies (ADR 0027): an unknown key is named with the keys allowed.
  const targets = parseTaskTargets(b['target_metrics'], b['constraints']);
  errors.push(...targets.errors);
  const reason = b['reason'];
  if (reason !== undefined && (typeof reason !== 'string' || reason.length < 1 || reason.length > 1000))
    errors.push({ path: '/reason', message: 'must be a string of 1 to 1000 characters' });
  let modelId = '';
  try {
    modelId = modelIdParam(b['model_id'], '/model_id');
  } catch (err) {
    errors.push({ path: '/model_id', message: (err as Error).message });
  }
  if (errors.length) throw problems.validation('the task is invalid', errors);
  if (!RUNNABLE_TASK_KINDS.includes(kind as TaskKind)) {
    throw new ProblemError(
      422,
      'KIND_NOT_AVAILABLE',
      'Task kind not available',
      `kind "${String(kind)}" cannot run in this build yet; runnable kinds: ${RUNNABLE_TASK_KINDS.join(', ')}`,
    );
  }
  return {
    modelId,
    kind: kind as TaskKind,
    priority: priority as number,
    targetMetrics: targets.targets.target_metrics,
    constraints: targets.targets.constraints,
    reason: reason as string | undefined,
  };
}
