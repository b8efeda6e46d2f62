// Mirrors tablero_core::job::ObjectRef.
import type { Bucket } from "./Bucket";

/**
 * An object in a bucket.
 */
export type ObjectRef = { bucket: Bucket; key: string };
