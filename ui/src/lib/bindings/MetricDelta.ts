// Mirrors tablero_local::deploy::MetricDelta.

export type MetricDelta = {
  metric: string;
  candidate: number;
  production: number | null;
  delta: number | null;
};
