import { SUBJECTS } from '@genesis/contracts';

/** Task lifecycle subjects (declared in libs/contracts; ADR 0024). */
export const TASK_SUBJECTS = {
  queued: SUBJECTS.taskQueued,
  started: SUBJECTS.taskStarted,
  completed: SUBJECTS.taskCompleted,
  cancelled: SUBJECTS.taskCancelled,
} as const;
