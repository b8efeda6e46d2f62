// Mirrors tablero_core::report::RuleCount.
import type { RowExample } from "./RowExample";

/**
 * One clean rule's effect.
 */
export type RuleCount = {
  rule: string;
  description: string;
  removed: number;
  examples: Array<RowExample>;
};
