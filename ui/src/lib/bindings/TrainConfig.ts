// Mirrors tablero_core::train::TrainConfig.
import type { Algorithm } from "./Algorithm";
import type { Metric } from "./Metric";

export type TrainConfig = {
  sort: Metric;
  folds: number;
  test_size: number;
  seed: number;
  candidates: Array<Algorithm>;
  threshold: number;
};
