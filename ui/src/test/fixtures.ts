// Payloads shaped like the Rust side's JSON.
import type { ModelVersion } from "../lib/bindings";
import type { MonitorData, PromotionDiffResult, Session } from "../lib/types";

export function modelVersion(over: Partial<ModelVersion> = {}): ModelVersion {
  return {
    group: "default",
    version: 1,
    status: "PendingManualApproval",
    created_by: "ana",
    created_at: "2026-11-27T23:18:21.304Z",
    artifact: { bucket: "models", key: "default/v1/model.json" },
    card: { bucket: "models", key: "default/v1/card.json" },
    dataset_uri: "tablero://clean/sales/features.parquet",
    dataset_sha256: "7c71",
    algorithm: "lr",
    cv_accuracy: 0.6922,
    cv_auc: 0.7457,
    holdout: {
      accuracy: 0.666,
      auc: 0.724,
      recall: 0.5,
      precision: 0.6,
      f1: 0.55,
      kappa: 0.3,
      mcc: 0.31,
    },
    leakage: [],
    decided_by: null,
    decided_at: null,
    comment: null,
    ...over,
  };
}

export function session(over: Partial<Session> = {}): Session {
  return {
    workspace: "/home/ana/.local/share/tablero",
    backend: "local",
    user: "ana",
    roles: ["analyst", "ml_lead", "ops"],
    allow_as: true,
    users: [
      { name: "ana", roles: ["analyst", "ml_lead", "ops"] },
      { name: "lead", roles: ["ml_lead", "ops"] },
      { name: "al", roles: ["analyst"] },
    ],
    four_eyes: true,
    ...over,
  };
}

export const SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="10" height="10"/></svg>';

export function monitorData(requests: number): MonitorData {
  return {
    requests,
    errors: 1,
    windows: [],
    drift: [{ feature: "Recency", psi: 0.55, level: "drift", n: 100 }],
    alarms: [{ rule: "feature_drift", state: "ALARM", since: "2026-11-27T23:18:21Z", value: 0.55 }],
    alarm_history: [],
    charts: { requests: SVG, latency: SVG, score: SVG, drift: SVG },
  };
}

export function promotionDiff(): PromotionDiffResult {
  return {
    candidate: modelVersion({ version: 2, status: "Approved", algorithm: "et" }),
    production: modelVersion({ version: 1, status: "Approved" }),
    deltas: [
      { metric: "holdout.auc", candidate: 0.8, production: 0.75, delta: 0.05 },
      { metric: "holdout.accuracy", candidate: 0.7, production: 0.72, delta: -0.02 },
      { metric: "cv.f1", candidate: 0.6, production: 0.6, delta: 0 },
    ],
    drift: [
      { feature: "Recency", psi: 0.55, level: "drift", n: 1000 },
      { feature: "Frequency", psi: 0.15, level: "watch", n: 1000 },
      { feature: "Monetary", psi: 0.02, level: "ok", n: 1000 },
    ],
    live_records: 1234,
    charts: { roc: SVG },
  };
}
