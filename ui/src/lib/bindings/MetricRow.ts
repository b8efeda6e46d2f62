// Mirrors tablero_core::registry::MetricRow.

export type MetricRow = { metric: string; values: Array<number>; deltas: Array<number> };
