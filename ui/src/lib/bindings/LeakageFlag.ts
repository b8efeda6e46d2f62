// Mirrors tablero_core::train::LeakageFlag.

export type LeakageFlag = { feature: string; auc: number };
