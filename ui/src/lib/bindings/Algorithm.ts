// Mirrors tablero_core::train::models::Algorithm (serde, lowercase).

export type Algorithm = "lr" | "tree" | "forest" | "gbm" | "knn" | "nb" | "et";
