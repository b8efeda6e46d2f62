// Mirrors tablero_core::train::dataset::FeatureSpec (serde tag "kind", lowercase).

export type FeatureSpec =
  | { kind: "numeric"; name: string; mean: number }
  | { kind: "categorical"; name: string; categories: Array<string> };
