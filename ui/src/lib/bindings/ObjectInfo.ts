// Mirrors tablero_core::store::ObjectInfo.
import type { Bucket } from "./Bucket";

/**
 * What `head` and `list` tell about an object.
 */
export type ObjectInfo = {
  bucket: Bucket;
  key: string;
  /** Size in bytes. */
  size: number;
  /** Last modified (RFC 3339, UTC). */
  modified: string;
  /** `STANDARD` locally; S3's class on AWS. */
  storage_class: string;
  /** User metadata stored with the object (e.g. `ingest`: the column mapping, as JSON text). */
  metadata: Record<string, string>;
};
