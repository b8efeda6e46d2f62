// Mirrors tablero_core::train::MeanStd.

export type MeanStd = { mean: number; std: number };
