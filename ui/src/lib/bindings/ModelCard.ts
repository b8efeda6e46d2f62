// Mirrors tablero_core::train::model::ModelCard (`evaluation` is flattened).
import type { Baseline } from "./Baseline";
import type { DatasetRef } from "./DatasetRef";
import type { Evaluation } from "./Evaluation";
import type { FeatureSpec } from "./FeatureSpec";
import type { TrainConfig } from "./TrainConfig";

/**
 * The model card.
 */
export type ModelCard = {
  group: string;
  version: number;
  trained_by: string;
  trained_at: string;
  dataset: DatasetRef;
  params: TrainConfig;
  feature_schema: Array<FeatureSpec>;
  threshold: number;
  unknown_categories: string;
  baseline: Baseline;
} & Evaluation;
