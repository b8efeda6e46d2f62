// Mirrors tablero_core::ingest::IngestSpec.
import type { Encoding } from "./Encoding";
import type { MappedColumn } from "./MappedColumn";

/**
 * How to read a stored raw object.
 */
export type IngestSpec = {
  encoding: Encoding;
  /** The delimiter, as a one-character string. */
  delimiter: string;
  /** The date format of `invoice_date`. */
  date_format: string;
  /** The header as found. */
  columns: Array<string>;
  /** Header → canonical column. */
  mapping: Array<MappedColumn>;
};
