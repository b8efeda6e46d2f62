// Mirrors tablero_core::job::JobKind (serde, lowercase).

export type JobKind = "clean" | "features" | "train";
