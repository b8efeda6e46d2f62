// Mirrors tablero_core::registry::Comparison.
import type { Algorithm } from "./Algorithm";
import type { MetricRow } from "./MetricRow";
import type { SchemaDifference } from "./SchemaDifference";

/**
 * Side-by-side comparison of versions.
 */
export type Comparison = {
  versions: Array<number>;
  metrics: Array<MetricRow>;
  schema_differences: Array<SchemaDifference>;
  algorithms: Array<Algorithm>;
  datasets: Array<string>;
};
