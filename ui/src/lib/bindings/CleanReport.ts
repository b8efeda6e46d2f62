// Mirrors tablero_core::report::CleanReport.
import type { ColumnSummary } from "./ColumnSummary";
import type { CountryTier } from "./CountryTier";
import type { IngestSpec } from "./IngestSpec";
import type { RuleCount } from "./RuleCount";

/**
 * The clean stage's report.
 */
export type CleanReport = {
  preset: string;
  ingest: IngestSpec;
  rows_in: number;
  rows_out: number;
  customers: number;
  rules: Array<RuleCount>;
  /** Parity only; skipped when absent. */
  countries?: Array<CountryTier>;
  /** Parity only: `[p1, p99]`; skipped when absent. */
  winsor_limits?: [number, number];
  columns: Array<ColumnSummary>;
};
