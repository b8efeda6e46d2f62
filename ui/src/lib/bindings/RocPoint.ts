// Mirrors tablero_core::train::metrics::RocPoint.

export type RocPoint = { fpr: number; tpr: number; threshold: number };
