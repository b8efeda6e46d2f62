// Mirrors tablero_core::report::RowExample.

/**
 * A row shown as an example of a rule at work.
 */
export type RowExample = {
  /** Line in the source file (the header is line 1). */
  line: number;
  /** Canonical column → value as read. */
  values: Record<string, string>;
  /** Skipped when absent. */
  reason?: string;
};
