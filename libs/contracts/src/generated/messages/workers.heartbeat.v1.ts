/* Generated from libs/contracts/schemas/messages/workers.heartbeat.v1.schema.json by `npm run contracts:types`: do not edit (ADR 0026). */

/**
 * workers.heartbeat v1
 *
 * A worker's capacity and memory, on core NATS every GENESIS_WORKER_HEARTBEAT_S seconds (not stored: only the latest one matters). A worker silent for three intervals is gone (ADR 0023).
 */
export interface WorkersHeartbeatV1 {
  /**
   * GENESIS_WORKER_ID, else <hostname>:<pid>; stable for the life of the process.
   */
  worker_id: string;
  host: string;
  /**
   * The job kinds it pulls (training, evaluation, ...).
   */
  kinds: string[];
  /**
   * Jobs it can run at once.
   */
  slots_total: number;
  /**
   * Jobs it is running now.
   */
  slots_busy: number;
  /**
   * The larger of host RAM and GPU memory in use, 0..1.
   */
  memory_used_fraction: number;
  /**
   * GPU memory in use (the fullest device), null without a GPU.
   */
  gpu_memory_used_fraction: number | null;
  sent_at: string;
}
