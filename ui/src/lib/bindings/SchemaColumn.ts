// Mirrors tablero_core::preview::SchemaColumn.
import type { Canonical } from "./Canonical";

export type SchemaColumn = {
  name: string;
  dtype: string;
  /** Raw CSVs only; skipped when absent. */
  canonical?: Canonical;
};
