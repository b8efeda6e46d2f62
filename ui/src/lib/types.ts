// Shapes that exist only in the IPC contract (docs/desktop.md): the
// envelopes the Tauri commands return around the generated Rust types in
// `./bindings`, and the events they emit.

import type {
  AlarmChange,
  Bucket,
  Comparison,
  Confusion,
  Deployment,
  FeatureDrift,
  Holdout,
  Importance,
  Job,
  LeaderboardEntry,
  LeakageFlag,
  LogLine,
  MetricDelta,
  MetricWindow,
  ModelCard,
  ModelVersion,
  ObjectRef,
  Page,
  Role,
  Upload,
  FileInspection,
  JobStatus,
  Algorithm,
} from "./bindings";

/** The error kinds a command rejects with (the CLI's, plus what the UI adds). */
export type ErrorKind =
  | "not_found"
  | "invalid_input"
  | "invalid_key"
  | "permission"
  | "refused"
  | "not_initialised"
  | "usage"
  | "unknown";

export type UserRoles = { name: string; roles: Role[] };

/** `session`, `switch_user`. */
export type Session = {
  workspace: string;
  backend: "local";
  user: string;
  roles: Role[];
  allow_as: boolean;
  users: UserRoles[];
  four_eyes: boolean;
};

/** One alarm's current state (`monitor alarms`' `alarms[]`). */
export type AlarmState = {
  rule: string;
  /** `ALARM` or `OK`. */
  state: string;
  since: string | null;
  value: number | null;
};

/** `notifications`. */
export type Notifications = {
  pending_approvals: ModelVersion[];
  firing_alarms: AlarmState[];
};

/** `data_list`: one page, as `data ls`. */
export type DataListResult = Page;

/**
 * `data_inspect`: the contract's `{ingest, rows_sampled, problems}`, as Rust's
 * `FileInspection` (where `ingest` is null when the head does not read as a
 * transactions CSV, and `columns` still lists the header).
 */
export type InspectResult = Omit<FileInspection, "path" | "size" | "whole_file"> &
  Partial<Pick<FileInspection, "path" | "size" | "whole_file">>;

/** `data_upload`. */
export type UploadOutcome = Upload;

/** `data_delete`. */
export type DeleteResult = { deleted: string };

/** `etl_clean`, `etl_features`, `train`. */
export type JobStarted = { job_id: string };

/** `jobs_list`. */
export type JobsList = { jobs: Job[] };

/** `job_show`. */
export type JobDetail = { job: Job; logs: LogLine[]; report: unknown };

/** A train job's report (built with `json!` in tablero-local). */
export type TrainReport = {
  version: number;
  group: string;
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

/** `models_list`. */
export type ModelsList = { group: string; versions: ModelVersion[] };

/** `model_show`. */
export type ModelDetail = { version: ModelVersion; card: ModelCard };

/** `models_compare`: the comparison plus its charts as SVG text. */
export type ComparisonResult = Comparison & {
  charts: { roc: string; metrics: string; confusion: string[]; importance: string[] };
};

/** Whether an action is allowed, and why not. */
export type Allowed = { allowed: boolean; reason: string | null };

/** `model_actions`. */
export type ModelActions = { approve: Allowed; reject: Allowed; promote: Allowed };

/** `endpoint_status`, `endpoint_start`. */
export type EndpointStatus = {
  running: boolean;
  url?: string | null;
  serving: { group: string; version: number } | null;
  uptime_seconds?: number | null;
  pid?: number | null;
};

/** `endpoint_stop`. */
export type EndpointStopped = { stopped: boolean };

/** `promotion_diff`. */
export type PromotionDiffResult = {
  candidate: ModelVersion;
  production: ModelVersion | null;
  deltas: MetricDelta[];
  drift: FeatureDrift[];
  live_records: number;
  charts: { roc: string };
};

/** `deploy_history`, newest first. */
export type DeployHistory = { deployments: Deployment[] };

export type MonitorRange = "1h" | "24h" | "7d";

export type ChartName = "requests" | "latency" | "score" | "drift";

/** `monitor`. */
export type MonitorData = {
  /** Start of the range (RFC 3339), when Rust sends it. */
  since?: string;
  requests: number;
  errors: number;
  windows: MetricWindow[];
  /** PSI per feature of the deployed version over the range, largest first. */
  drift: FeatureDrift[];
  alarms: AlarmState[];
  alarm_history: AlarmChange[];
  charts: Record<ChartName, string>;
};

/** `export_chart_png`. */
export type ExportResult = { path: string };

/** `settings`. */
export type Settings = {
  workspace: string;
  backend: "local";
  users: UserRoles[];
  policy: { four_eyes: boolean; allow_as: boolean };
};

/** Event `job://progress`. */
export type JobProgressEvent = {
  id: string;
  status: JobStatus;
  fraction: number;
  message: string;
};

/** Event `upload://progress`. */
export type UploadProgressEvent = { path: string; done: number; total: number };

export type { Bucket };
