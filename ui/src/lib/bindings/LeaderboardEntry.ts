// Mirrors tablero_core::train::LeaderboardEntry.
import type { Algorithm } from "./Algorithm";
import type { MeanStd } from "./MeanStd";

/**
 * One candidate's line on the leaderboard.
 */
export type LeaderboardEntry = {
  model: Algorithm;
  name: string;
  accuracy: MeanStd;
  auc: MeanStd;
  recall: MeanStd;
  precision: MeanStd;
  f1: MeanStd;
  kappa: MeanStd;
  mcc: MeanStd;
  train_seconds: number;
  /** Per fold: `[accuracy, auc, recall, precision, f1, kappa, mcc]`. */
  folds: Array<[number, number, number, number, number, number, number]>;
};
