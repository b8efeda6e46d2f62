// Mirrors tablero_core::report::ColumnSummary.

/**
 * Summary of one output column.
 */
export type ColumnSummary = {
  name: string;
  /** `text`, `integer`, `float`, `datetime`, `boolean`. */
  dtype: string;
  /** serde_json::Value: a number, or a timestamp as text. */
  min: number | string | null;
  /** serde_json::Value: a number, or a timestamp as text. */
  max: number | string | null;
  mean: number | null;
  nulls: number;
  /** Distinct values (text); skipped when absent. */
  distinct?: number;
};
