/* Generated from libs/contracts/schemas/events/threshold.reached.v1.schema.json by `npm run contracts:types`: do not edit (ADR 0026). */

/**
 * threshold.reached v1 — the monitor opened an improvement cycle
 */
export interface ThresholdReachedV1 {
  cycle_id: string;
  model_id: string;
  trigger: 'learnings' | 'time' | 'performance' | 'manual';
  reason: string;
  requested_by?: string;
  opened_at: string;
  /**
   * What the monitor saw when it decided.
   */
  counts: {
    learnings_since_training: number;
    learning_threshold: number;
    days_since_training: number;
    time_threshold_days: number;
    accuracy?: number | null;
    accuracy_source?: 'online' | 'offline' | null;
    performance_threshold?: number;
    feedback_samples?: number;
    /**
     * Accepted learnings stored since the model's last cycle ended.
     */
    new_learnings?: number;
    /**
     * Feedback outcomes recorded since the model's last cycle ended.
     */
    new_feedback?: number;
    /**
     * New learnings plus feedback an automatic cycle needed (ADR 0014).
     */
    min_new_evidence?: number;
    /**
     * Rejected cycles since the last deployment (the back-off doubles with each).
     */
    consecutive_rejections?: number;
  };
}
