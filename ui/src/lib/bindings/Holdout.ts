// Mirrors tablero_core::train::Holdout.

export type Holdout = {
  accuracy: number;
  auc: number;
  recall: number;
  precision: number;
  f1: number;
  kappa: number;
  mcc: number;
};
