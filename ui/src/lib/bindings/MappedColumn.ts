// Mirrors tablero_core::ingest::MappedColumn.
import type { Canonical } from "./Canonical";

/**
 * One mapped column of a stored upload.
 */
export type MappedColumn = {
  /** The header as found in the file. */
  column: string;
  canonical: Canonical;
  /** `given` (from `--map`) or `alias` (recognised by name). */
  how: string;
};
