// Payloads shaped like the Rust side's JSON, typed with the generated
// bindings so a change on the Rust side breaks `npm run check` here.
import type {
  ComparisonView,
  EndpointState,
  FileInspection,
  IngestSpec,
  ModelVersion,
  MonitorView,
  PromotionDiffView,
  Session,
  SettingsView,
  TrainingOptions,
} from "../lib/bindings";

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

export function settingsView(over: Partial<SettingsView> = {}): SettingsView {
  return {
    workspace: "/ws",
    backend: "local",
    users: session().users,
    four_eyes: true,
    allow_as: true,
    ...over,
  };
}

export function monitorView(requests: number, over: Partial<MonitorView> = {}): MonitorView {
  return {
    since: "2026-11-27T22:18:21Z",
    requests,
    errors: 1,
    windows: [],
    drift: [{ feature: "Recency", psi: 0.55, level: "drift", n: 100 }],
    alarms: [{ rule: "feature_drift", state: "ALARM", since: "2026-11-27T23:18:21Z", value: 0.55 }],
    alarm_history: [],
    service: [],
    charts: { requests: SVG, latency: SVG, score: SVG, drift: SVG, service: [] },
    ...over,
  };
}

/** `promotion_diff` of v2 against v1 in production, with `live` live records (enough from 100). */
export function promotionDiffView(live = 1234): PromotionDiffView {
  return {
    diff: {
      candidate: modelVersion({ version: 2, status: "Approved", algorithm: "et" }),
      production: modelVersion({ version: 1, status: "Approved" }),
      deltas: [
        { metric: "holdout.auc", candidate: 0.8, production: 0.75, delta: 0.05 },
        { metric: "holdout.accuracy", candidate: 0.7, production: 0.72, delta: -0.02 },
        { metric: "cv.f1", candidate: 0.6, production: 0.6, delta: 0 },
      ],
      drift: {
        live_records: live,
        enough: live >= 100,
        features: [
          { feature: "Recency", psi: 0.55, level: "drift", n: live },
          { feature: "Frequency", psi: 0.15, level: "watch", n: live },
          { feature: "Monetary", psi: 0.02, level: "ok", n: live },
        ],
      },
      since: "2026-11-26T23:18:21Z",
    },
    roc: SVG,
  };
}

export function comparisonView(): ComparisonView {
  return {
    comparison: {
      versions: [2, 1],
      metrics: [{ metric: "cv.accuracy", values: [0.7, 0.69], deltas: [0, -0.01] }],
      schema_differences: [
        { feature: "Country", per_version: ["categorical (3 categories)", "absent"] },
      ],
      algorithms: ["et", "lr"],
      datasets: ["tablero://clean/a/features.parquet", "tablero://clean/b/features.parquet"],
    },
    charts: { roc: SVG, metrics: SVG, confusion: [SVG, SVG], importance: [SVG, SVG] },
  };
}

export function endpointState(over: Partial<EndpointState> = {}): EndpointState {
  return {
    running: false,
    url: null,
    serving: null,
    uptime_seconds: null,
    pid: null,
    tasks: null,
    revision: null,
    ...over,
  };
}

export const INGEST: IngestSpec = {
  encoding: "utf-8",
  delimiter: ",",
  date_format: "%Y-%m-%d %H:%M:%S",
  columns: ["Client", "When", "Qty", "UnitPrice"],
  mapping: [{ column: "UnitPrice", canonical: "unit_price", how: "alias" }],
};

/** `data_inspect` of `/data/shop.csv`, read as transactions with `INGEST`. */
export function fileInspection(over: Partial<FileInspection> = {}): FileInspection {
  return {
    path: "/data/shop.csv",
    size: 4096,
    ingest: INGEST,
    columns: INGEST.columns,
    rows_sampled: 100,
    whole_file: true,
    problems: [],
    ...over,
  };
}

/** `training_options`, as Rust answers it (its titles and `TrainConfig::default()`). */
export function trainingOptions(): TrainingOptions {
  return {
    algorithms: [
      { id: "lr", title: "Logistic Regression" },
      { id: "tree", title: "Decision Tree" },
      { id: "forest", title: "Random Forest" },
      { id: "gbm", title: "Gradient Boosting" },
      { id: "knn", title: "K Neighbors" },
      { id: "nb", title: "Naive Bayes" },
      { id: "et", title: "Extra Trees" },
    ],
    metrics: [
      { id: "accuracy", title: "Accuracy" },
      { id: "auc", title: "AUC" },
      { id: "recall", title: "Recall" },
      { id: "precision", title: "Precision" },
      { id: "f1", title: "F1" },
      { id: "kappa", title: "Kappa" },
      { id: "mcc", title: "MCC" },
    ],
    defaults: {
      sort: "accuracy",
      folds: 10,
      test_size: 0.2,
      seed: 123,
      candidates: ["lr", "tree", "forest", "gbm", "knn", "nb", "et"],
      threshold: 0.5,
    },
    sagemaker: null,
  };
}
