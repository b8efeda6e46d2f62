// Mirrors tablero_core::report::FeatureReport.
import type { ColumnSummary } from "./ColumnSummary";
import type { NullFeature } from "./NullFeature";

/**
 * The features stage's report.
 */
export type FeatureReport = {
  preset: string;
  rows_in: number;
  customers: number;
  positives: number;
  negatives: number;
  cutoff: string;
  cutoff_source: string;
  horizon_days: number;
  target: string;
  null_features: Array<NullFeature>;
  warnings: Array<string>;
  columns: Array<ColumnSummary>;
};
