// Mirrors tablero_local::monitor::FeatureDrift.

/**
 * PSI of one feature (or the score) over a time range.
 */
export type FeatureDrift = {
  feature: string;
  psi: number;
  /** `ok` (< 0.1), `watch` (< 0.25) or `drift`. */
  level: string;
  n: number;
};
