// The one module that talks to the Rust side: a typed function per Tauri
// command of docs/desktop.md, and the progress events. Views import
// from here and never call `invoke` themselves. Every reply also tells the
// connection store whether the backend was reachable.

import { invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";

import type {
  Algorithm,
  BackendKind,
  Bucket,
  ComparisonView,
  DeployHistory,
  Deployment,
  Encoding,
  EndpointChart,
  EndpointState,
  EndpointStopped,
  ErrorKind,
  FileInspection,
  Job,
  JobDetail,
  JobList,
  JobProgress,
  JobStarted,
  Metric,
  ModelActions,
  ModelVersion,
  MonitorView,
  Notifications,
  ObjectInfo,
  Page,
  Preset,
  Preview,
  PromotionDiffView,
  Rollout,
  Session,
  SettingsCheck,
  SettingsView,
  TimeRange,
  TrainingOptions,
  TrashEntry,
  UiError,
  Upload,
  UploadCancelling,
  UploadProgress,
  VersionDetail,
  VersionList,
  Written,
} from "./bindings";
import { connection } from "./connection.svelte";
import type { ApiErrorKind } from "./types";

// Keyed by the generated `ErrorKind`: a kind Rust adds fails to compile here
// until the UI knows it (instead of showing it as `unknown`).
const KNOWN_KINDS: Record<ErrorKind, true> = {
  usage: true,
  not_found: true,
  not_initialised: true,
  invalid_input: true,
  invalid_key: true,
  permission: true,
  refused: true,
  cancelled: true,
  unsupported: true,
  offline: true,
};

/**
 * A refused command: Rust's `UiError` (the kind, `permission`,
 * `invalid_input`…, and the message it wrote for the user), or what Tauri
 * itself refused, of kind `unknown`.
 */
export class ApiError extends Error {
  readonly kind: ApiErrorKind;

  constructor(kind: ApiErrorKind, message: string) {
    super(message);
    this.name = "ApiError";
    this.kind = kind;
  }
}

/** A `UiError` as it arrives: its kind is any string until `kindOf` checks it. */
function isUiError(v: unknown): v is Omit<UiError, "kind"> & { kind: string } {
  return (
    typeof v === "object" &&
    v !== null &&
    typeof (v as Record<string, unknown>).kind === "string" &&
    typeof (v as Record<string, unknown>).message === "string"
  );
}

function kindOf(v: string): ApiErrorKind {
  return Object.prototype.hasOwnProperty.call(KNOWN_KINDS, v) ? (v as ErrorKind) : "unknown";
}

/**
 * Turns whatever `invoke` rejected with into an `ApiError`: Rust's
 * `UiError` `{kind, message}`, or, for what Tauri itself refuses (an
 * unknown command, arguments that do not deserialize), a bare string or an
 * `Error`.
 */
export function toApiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  if (isUiError(e)) return new ApiError(kindOf(e.kind), e.message);
  if (typeof e === "string") {
    return new ApiError("unknown", e.trim() || "The command failed without a message.");
  }
  if (e instanceof Error) return new ApiError("unknown", e.message);
  return new ApiError("unknown", `The command failed: ${String(e)}`);
}

/** Drops `undefined` values so Rust sees a missing argument (`None`). */
function args(a: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(a)) if (v !== undefined) out[k] = v;
  return out;
}

async function call<T>(command: string, a: Record<string, unknown> = {}): Promise<T> {
  let reply: T;
  try {
    reply = await invoke<T>(command, args(a));
  } catch (e) {
    const error = toApiError(e);
    if (error.kind === "offline") connection.lost(error.message);
    throw error;
  }
  connection.reached();
  return reply;
}

// ── Session ────────────────────────────────────────────────────────────────

export const session = () => call<Session>("session");
export const switchUser = (name: string) => call<Session>("switch_user", { name });
/** Opens (or creates, in a missing or empty folder) another workspace. */
export const workspaceOpen = (path: string) => call<Session>("workspace_open", { path });
export const notifications = () => call<Notifications>("notifications");

// ── Data ───────────────────────────────────────────────────────────────────

export type ListOptions = { prefix?: string; pageSize?: number; pageToken?: string };

export const dataList = (bucket: Bucket, o: ListOptions = {}) =>
  call<Page>("data_list", { bucket, ...o });

/**
 * Lists every page of a bucket, handing each page to `onPage` as it arrives
 * so a long listing shows at once. Stops early when `signal` is aborted.
 */
export async function dataListAll(
  bucket: Bucket,
  o: { prefix?: string; pageSize?: number; signal?: AbortSignal },
  onPage: (objects: ObjectInfo[]) => void,
): Promise<void> {
  let pageToken: string | undefined;
  do {
    if (o.signal?.aborted) return;
    const page = await dataList(bucket, {
      prefix: o.prefix || undefined,
      pageSize: o.pageSize,
      pageToken,
    });
    if (o.signal?.aborted) return;
    onPage(page.objects);
    pageToken = page.next_token ?? undefined;
  } while (pageToken);
}

/**
 * `data_inspect`: how Rust would read a local CSV, from its head. `ingest` is
 * null when the head does not read as transactions; `columns` still lists
 * the header. `encoding` is the one the user declared; without it Rust
 * detects it.
 */
export const dataInspect = (path: string, map?: string, encoding?: Encoding) =>
  call<FileInspection>("data_inspect", { path, map: map || undefined, encoding });

/** `encoding` is the one the user declared; without it Rust detects it. */
export const dataUpload = (o: {
  path: string;
  key?: string;
  map?: string;
  replace?: boolean;
  encoding?: Encoding;
}) =>
  call<Upload>("data_upload", {
    path: o.path,
    key: o.key || undefined,
    map: o.map || undefined,
    replace: o.replace,
    encoding: o.encoding,
  });

/** Asks the running upload of `path` to stop; it then rejects with kind `cancelled`. */
export const dataUploadCancel = (path: string) =>
  call<UploadCancelling>("data_upload_cancel", { path });

export const dataPreview = (bucket: Bucket, key: string, rows?: number) =>
  call<Preview>("data_preview", { bucket, key, rows });

/** Moves an object to the workspace trash; the entry's `id` undoes it. */
export const dataDelete = (bucket: Bucket, key: string) =>
  call<TrashEntry>("data_delete", { bucket, key });

/** Deleted objects in the workspace trash, newest first. */
export const dataTrash = () => call<TrashEntry[]>("data_trash");

/** Puts a trashed object back where it was (refused if its key is taken). */
export const dataRestore = (id: string) => call<ObjectInfo>("data_restore", { id });

// ── Pipeline ───────────────────────────────────────────────────────────────

/** The candidates and metrics a training can be asked for, with their titles, and the defaults. */
export const trainingOptions = () => call<TrainingOptions>("training_options");

export const etlClean = (o: { rawKey: string; preset?: Preset; out?: string }) =>
  call<JobStarted>("etl_clean", { ...o, out: o.out || undefined });

export const etlFeatures = (o: {
  cleanKey: string;
  preset?: Preset;
  cutoff?: string;
  horizonDays?: number;
  out?: string;
}) =>
  call<JobStarted>("etl_features", {
    ...o,
    cutoff: o.cutoff || undefined,
    out: o.out || undefined,
  });

/**
 * Starts a training. `instanceType`, `spot` and `maxRuntimeS` override the
 * `[aws.compute]` defaults of a SageMaker training job (left out when
 * training runs on this machine).
 */
export const train = (o: {
  featuresKey: string;
  sort?: Metric;
  folds?: number;
  candidates?: Algorithm[];
  group?: string;
  instanceType?: string;
  spot?: boolean;
  maxRuntimeS?: number;
}) => call<JobStarted>("train", { ...o, group: o.group || undefined });

export const jobsList = (limit?: number) => call<JobList>("jobs_list", { limit });
export const jobShow = (id: string) => call<JobDetail>("job_show", { id });
export const jobCancel = (id: string) => call<Job>("job_cancel", { id });

// ── Models ─────────────────────────────────────────────────────────────────

export const modelsList = (group?: string) => call<VersionList>("models_list", { group });
export const modelShow = (version: number, group?: string) =>
  call<VersionDetail>("model_show", { version, group });
/** `models_compare`: the comparison (as `models compare`) and its charts as SVG text. */
export const modelsCompare = (versions: number[], group?: string) =>
  call<ComparisonView>("models_compare", { versions, group });
export const modelActions = (version: number, group?: string) =>
  call<ModelActions>("model_actions", { version, group });
export const modelApprove = (o: {
  version: number;
  comment: string;
  acceptLeakageRisk?: boolean;
  group?: string;
}) => call<ModelVersion>("model_approve", o);
export const modelReject = (o: { version: number; comment: string; group?: string }) =>
  call<ModelVersion>("model_reject", o);

// ── Deploy ─────────────────────────────────────────────────────────────────

export const endpointStatus = () => call<EndpointState>("endpoint_status");
/** `endpoint_start`: `port` 0 takes any free port (Rust's default is 8080). */
export const endpointStart = (port?: number, metricsInterval?: number) =>
  call<EndpointState>("endpoint_start", { port, metricsInterval });
export const endpointStop = () => call<EndpointStopped>("endpoint_stop");

/**
 * `promotion_diff`: the diff as `deploy diff` (deltas, and drift of the
 * candidate's training data against the last 24 h of live traffic) and the
 * two versions' ROC curves as SVG.
 */
export const promotionDiff = (version: number, group?: string) =>
  call<PromotionDiffView>("promotion_diff", { version, group });

export const deployPromote = (version: number, group?: string) =>
  call<Deployment>("deploy_promote", { version, group });
export const deployRollback = () => call<Deployment>("deploy_rollback");
export const deployHistory = () => call<DeployHistory>("deploy_history");

// ── Monitor ────────────────────────────────────────────────────────────────

/** `monitor`: traffic, drift of the deployed version, alarms and charts over `range`. */
export const monitor = (range: TimeRange) => call<MonitorView>("monitor", { range });
export const exportChartPng = (chart: EndpointChart, range: TimeRange, path: string) =>
  call<Written>("export_chart_png", { chart, range, path });

// ── Settings ───────────────────────────────────────────────────────────────

export const settings = () => call<SettingsView>("settings");

/**
 * `aws_settings`: the workspace's `[aws]` table as TOML text, or an example
 * to start from. A build without the AWS backend rejects with `unsupported`.
 */
export const awsSettings = () => call<string>("aws_settings");
/** `aws_check`: checks an `[aws]` table without saving it, one result per call made. */
export const awsCheck = (text: string) => call<SettingsCheck[]>("aws_check", { text });
/** `aws_save`: saves the `[aws]` table, selects the AWS backend and reopens the workspace. */
export const awsSave = (text: string) => call<Session>("aws_save", { text });
/** `backend_select`: selects the workspace's backend and reopens the workspace. */
export const backendSelect = (kind: BackendKind) => call<Session>("backend_select", { kind });

// ── Events ─────────────────────────────────────────────────────────────────

/** Subscribes to `job://progress`; resolves to the unsubscribe function. */
export async function onJobProgress(cb: (e: JobProgress) => void): Promise<UnlistenFn> {
  return listen<JobProgress>("job://progress", (event) => cb(event.payload));
}

/** Subscribes to `upload://progress`; resolves to the unsubscribe function. */
export async function onUploadProgress(cb: (e: UploadProgress) => void): Promise<UnlistenFn> {
  return listen<UploadProgress>("upload://progress", (event) => cb(event.payload));
}

/**
 * Subscribes to `deploy://rollout`, sent while `deploy_promote` or
 * `deploy_rollback` runs; resolves to the unsubscribe function.
 */
export async function onRollout(cb: (e: Rollout) => void): Promise<UnlistenFn> {
  return listen<Rollout>("deploy://rollout", (event) => cb(event.payload));
}

/**
 * Subscribes without failing: outside Tauri (tests, a plain browser) there
 * are no events, and the view keeps working from polling alone.
 */
export async function safeListen(subscribe: () => Promise<UnlistenFn>): Promise<UnlistenFn> {
  try {
    return await subscribe();
  } catch {
    return () => {};
  }
}
