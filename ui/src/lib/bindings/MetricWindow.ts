// Mirrors tablero_local::monitor::MetricWindow.

/**
 * One interval of endpoint traffic.
 */
export type MetricWindow = {
  endpoint: string;
  group: string;
  version: number;
  window_start: string;
  interval_s: number;
  requests: number;
  errors: number;
  p50_ms: number | null;
  p90_ms: number | null;
  p99_ms: number | null;
  predictions: number;
  positives: number;
  score_bins: Array<number>;
  feature_bins: Record<string, Array<number>>;
};
