// Mirrors tablero_core::registry::ModelVersion.
import type { Algorithm } from "./Algorithm";
import type { ApprovalStatus } from "./ApprovalStatus";
import type { Holdout } from "./Holdout";
import type { LeakageFlag } from "./LeakageFlag";
import type { ObjectRef } from "./ObjectRef";

/**
 * A registered model version (what `models ls` lists).
 */
export type ModelVersion = {
  group: string;
  version: number;
  status: ApprovalStatus;
  created_by: string;
  created_at: string;
  artifact: ObjectRef;
  card: ObjectRef;
  dataset_uri: string;
  dataset_sha256: string;
  algorithm: Algorithm;
  cv_accuracy: number;
  cv_auc: number;
  holdout: Holdout;
  leakage: Array<LeakageFlag>;
  decided_by: string | null;
  decided_at: string | null;
  comment: string | null;
};
