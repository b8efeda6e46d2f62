// Mirrors tablero_core::store::Bucket (serde, lowercase).

/**
 * The three buckets of the pipeline.
 */
export type Bucket = "raw" | "clean" | "models";
