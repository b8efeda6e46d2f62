// Mirrors tablero_core::train::model::FeatureBaseline (serde tag "kind", lowercase).

export type FeatureBaseline =
  | { kind: "numeric"; name: string; edges: Array<number>; proportions: Array<number> }
  | { kind: "categorical"; name: string; categories: Array<string>; proportions: Array<number> };
