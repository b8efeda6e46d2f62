// Mirrors tablero_core::train::metrics::Metric (serde, lowercase).

export type Metric = "accuracy" | "auc" | "recall" | "precision" | "f1" | "kappa" | "mcc";
