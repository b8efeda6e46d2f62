// Mirrors tablero_local::workspace::Upload (the `UploadOutcome` of docs/desktop.md).
import type { IngestSpec } from "./IngestSpec";
import type { ObjectInfo } from "./ObjectInfo";
import type { RowExample } from "./RowExample";

/**
 * What an upload stored.
 */
export type Upload = {
  object: ObjectInfo;
  ingest: IngestSpec;
  rows: number;
  unparseable: number;
  unparseable_examples: Array<RowExample>;
  sha256: string;
};
