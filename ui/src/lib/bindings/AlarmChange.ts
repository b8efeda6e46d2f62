// Mirrors tablero_local::monitor::AlarmChange.

/**
 * An alarm's state change.
 */
export type AlarmChange = {
  /** `feature_drift`, `error_rate` or `latency_p99`. */
  rule: string;
  /** `ALARM` or `OK`. */
  state: string;
  value: number | null;
  message: string;
  at: string;
};
