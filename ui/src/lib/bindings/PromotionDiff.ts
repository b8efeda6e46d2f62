// Mirrors tablero_local::deploy::PromotionDiff.
import type { LiveDrift } from "./LiveDrift";
import type { MetricDelta } from "./MetricDelta";
import type { ModelVersion } from "./ModelVersion";

/**
 * A candidate against the version in production, before promoting it.
 */
export type PromotionDiff = {
  candidate: ModelVersion;
  production: ModelVersion | null;
  deltas: Array<MetricDelta>;
  drift: LiveDrift;
  since: string;
};
