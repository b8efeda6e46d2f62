// Mirrors tablero_core::preview::Preview.
import type { ColumnSummary } from "./ColumnSummary";
import type { IngestSpec } from "./IngestSpec";
import type { SchemaColumn } from "./SchemaColumn";

/**
 * What `data preview` shows.
 */
export type Preview = {
  /** `csv` or `parquet`. */
  format: string;
  schema: Array<SchemaColumn>;
  /** The first rows, as text. */
  rows: Array<Array<string>>;
  total_rows: number | null;
  stats_cover_all_rows: boolean;
  stats: Array<ColumnSummary>;
  ingest: IngestSpec | null;
};
