// The IPC contract's shapes (docs/desktop.md), for views to import from one
// place. Every shape that exists as a Rust type is the binding ts-rs
// generates into `./bindings` (never edited by hand), re-exported as is.
// What is left below has no Rust type: replies the Tauri commands build
// with `json!` (src-tauri/src/commands.rs), the train report, and values
// only the UI names.

import type {
  Algorithm,
  Confusion,
  Holdout,
  Importance,
  Job,
  JsonValue,
  LeaderboardEntry,
  LeakageFlag,
  LogLine,
  ModelCard,
  ModelVersion,
  MonitorCharts,
  ObjectRef,
} from "./bindings";

export type {
  AlarmState,
  Allowed,
  Bucket,
  CompareCharts,
  ComparisonView,
  DeployHistory,
  TrashEntry,
  EndpointState,
  FileInspection,
  JobProgress,
  JobStarted,
  ModelActions,
  MonitorCharts,
  MonitorView,
  Notifications,
  Page,
  PromotionDiff,
  PromotionDiffView,
  Serving,
  Session,
  SettingsView,
  UiError,
  Upload,
  UploadProgress,
  UserRoles,
} from "./bindings";

/**
 * The kinds a command rejects with (`UiError.kind`: the CLI's error kinds),
 * plus `usage` and `unknown` for what the UI cannot classify.
 */
export type ErrorKind =
  | "not_found"
  | "invalid_input"
  | "invalid_key"
  | "permission"
  | "refused"
  | "not_initialised"
  | "cancelled"
  | "usage"
  | "unknown";

// ── Replies built with `json!` in src-tauri/src/commands.rs ────────────────

/** `jobs_list`. */
export type JobsList = { jobs: Job[] };

/** `job_show`. */
export type JobDetail = { job: Job; logs: LogLine[]; report: JsonValue | null };

/** `models_list`. */
export type ModelsList = { group: string; versions: ModelVersion[] };

/** `model_show`. */
export type ModelDetail = { version: ModelVersion; card: ModelCard };

/** `endpoint_stop`. */
export type EndpointStopped = { stopped: boolean };

/** `export_chart_png`. */
export type ExportResult = { path: string };

/**
 * A train job's report. It has no Rust type: it mirrors the `json!` report
 * the train job builds in `crates/local/src/workspace.rs` (`Workspace`'s
 * train stage), field for field; keep the two in step.
 */
export type TrainReport = {
  version: number;
  group: string;
  /** The registered version's status name (`PendingManualApproval`). */
  status: string;
  winner: Algorithm;
  leaderboard: LeaderboardEntry[];
  holdout: Holdout;
  leakage: LeakageFlag[];
  confusion: Confusion;
  importance: Importance[];
  rows: { train: number; test: number };
  positives: { train: number; test: number };
  artifact: ObjectRef;
  card: ObjectRef;
};

// ── UI-only values ─────────────────────────────────────────────────────────

/** The `range` argument of `monitor` and `export_chart_png` (Rust takes a string). */
export type MonitorRange = "1h" | "24h" | "7d";

/** A Monitor chart: the `chart` argument of `export_chart_png`. */
export type ChartName = keyof MonitorCharts;
