// Mirrors tablero_core::train::model::Baseline.
import type { FeatureBaseline } from "./FeatureBaseline";

export type Baseline = { features: Array<FeatureBaseline>; score: FeatureBaseline };
