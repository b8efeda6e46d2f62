// Mirrors tablero_core::train::Importance.

export type Importance = { feature: string; importance: number; std: number };
