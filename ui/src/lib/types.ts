// The IPC contract's shapes (docs/desktop.md), for views to import from one
// place. Every reply and argument of a Tauri command is a Rust type whose
// binding ts-rs generates into `./bindings` (never edited by hand),
// re-exported here as is. Only values the UI alone names are defined below.

import type { ErrorKind } from "./bindings";

export type {
  AlarmRule,
  AlarmState,
  Algorithm,
  AlgorithmOption,
  Allowed,
  BackendKind,
  Bucket,
  CompareCharts,
  ComparisonView,
  DeployHistory,
  EndpointChart,
  EndpointState,
  EndpointStopped,
  ErrorKind,
  FileInspection,
  JobDetail,
  JobList,
  JobProgress,
  JobStarted,
  Metric,
  MetricOption,
  ModelActions,
  MonitorCharts,
  MonitorView,
  Notifications,
  Page,
  Preset,
  PromotionDiff,
  PromotionDiffView,
  Rollout,
  RolloutPhase,
  Scalar,
  Serving,
  Session,
  SettingsCheck,
  SettingsView,
  StageReport,
  TimeRange,
  TrainingOptions,
  TrainReport,
  TrashEntry,
  UiError,
  Upload,
  UploadCancelling,
  UploadProgress,
  UserRoles,
  VersionDetail,
  VersionList,
  Written,
} from "./bindings";

/**
 * The kind of an `ApiError`: one of Rust's error kinds, or `unknown` for a
 * refusal the UI cannot classify (Tauri's own, a kind newer than this UI).
 */
export type ApiErrorKind = ErrorKind | "unknown";
