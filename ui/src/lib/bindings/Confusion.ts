// Mirrors tablero_core::train::metrics::Confusion.

export type Confusion = { tp: number; fp: number; tn: number; fn_: number };
