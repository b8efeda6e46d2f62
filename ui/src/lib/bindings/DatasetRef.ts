// Mirrors tablero_core::train::model::DatasetRef.

export type DatasetRef = {
  uri: string;
  sha256: string;
  preset: string;
  target: string;
  horizon_days: number;
  cutoff: string;
};
