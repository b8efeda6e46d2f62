// The one module that talks to the Rust side: a typed function per Tauri
// command of docs/desktop.md, and the two progress events. Views import
// from here and never call `invoke` themselves.

import { invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";

import type {
  Bucket,
  DataListResult,
  DeleteResult,
  DeployHistory,
  EndpointStatus,
  EndpointStopped,
  ErrorKind,
  ExportResult,
  ChartName,
  InspectResult,
  JobDetail,
  JobProgressEvent,
  JobStarted,
  JobsList,
  ComparisonResult,
  ModelActions,
  ModelDetail,
  ModelsList,
  MonitorData,
  MonitorRange,
  Notifications,
  PromotionDiffResult,
  Session,
  Settings,
  UploadOutcome,
  UploadProgressEvent,
} from "./types";
import type {
  Algorithm,
  Comparison,
  Deployment,
  Job,
  Metric,
  ModelVersion,
  ObjectInfo,
  Preset,
  Preview,
} from "./bindings";

const KNOWN_KINDS: readonly string[] = [
  "not_found",
  "invalid_input",
  "invalid_key",
  "permission",
  "refused",
  "not_initialised",
  "usage",
];

/** A refused command: the kind (`permission`, `invalid_input`…) and the message Rust wrote. */
export class ApiError extends Error {
  readonly kind: ErrorKind;

  constructor(kind: ErrorKind, message: string) {
    super(message);
    this.name = "ApiError";
    this.kind = kind;
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null;
}

function kindOf(v: unknown): ErrorKind {
  return typeof v === "string" && KNOWN_KINDS.includes(v) ? (v as ErrorKind) : "unknown";
}

/**
 * Turns whatever `invoke` rejected with into an `ApiError`: the contract's
 * `{kind, message}`, the CLI's `{error: {kind, message}}`, a JSON string of
 * either, a bare string, or an `Error`.
 */
export function toApiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  if (typeof e === "string") {
    const trimmed = e.trim();
    if (trimmed.startsWith("{")) {
      try {
        return toApiError(JSON.parse(trimmed) as unknown);
      } catch {
        // Not JSON after all: the string is the message.
      }
    }
    return new ApiError("unknown", trimmed || "The command failed without a message.");
  }
  if (isRecord(e)) {
    if (isRecord(e.error)) return toApiError(e.error);
    if (typeof e.message === "string") {
      return new ApiError(kindOf(e.kind), e.message);
    }
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
  try {
    return await invoke<T>(command, args(a));
  } catch (e) {
    throw toApiError(e);
  }
}

// ── Session ────────────────────────────────────────────────────────────────

export const session = () => call<Session>("session");
export const switchUser = (name: string) => call<Session>("switch_user", { name });
export const notifications = () => call<Notifications>("notifications");

// ── Data ───────────────────────────────────────────────────────────────────

export type ListOptions = { prefix?: string; pageSize?: number; pageToken?: string };

export const dataList = (bucket: Bucket, o: ListOptions = {}) =>
  call<DataListResult>("data_list", { bucket, ...o });

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

/** `data_inspect`; `columns` is filled from `ingest` when Rust leaves it out. */
export async function dataInspect(path: string, map?: string): Promise<InspectResult> {
  const r = await call<InspectResult>("data_inspect", { path, map: map || undefined });
  return {
    ...r,
    ingest: r.ingest ?? null,
    columns: Array.isArray(r.columns) ? r.columns : (r.ingest?.columns ?? []),
    problems: Array.isArray(r.problems) ? r.problems : [],
  };
}

export const dataUpload = (o: { path: string; key?: string; map?: string; replace?: boolean }) =>
  call<UploadOutcome>("data_upload", {
    path: o.path,
    key: o.key || undefined,
    map: o.map || undefined,
    replace: o.replace,
  });

export const dataPreview = (bucket: Bucket, key: string, rows?: number) =>
  call<Preview>("data_preview", { bucket, key, rows });

export const dataDelete = (bucket: Bucket, key: string) =>
  call<DeleteResult>("data_delete", { bucket, key });

// ── Pipeline ───────────────────────────────────────────────────────────────

export type { Preset };

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

export const train = (o: {
  featuresKey: string;
  sort?: Metric;
  folds?: number;
  candidates?: Algorithm[];
  group?: string;
}) => call<JobStarted>("train", { ...o, group: o.group || undefined });

export const jobsList = (limit?: number) => call<JobsList>("jobs_list", { limit });
export const jobShow = (id: string) => call<JobDetail>("job_show", { id });
export const jobCancel = (id: string) => call<Job>("job_cancel", { id });

// ── Models ─────────────────────────────────────────────────────────────────

export const modelsList = (group?: string) => call<ModelsList>("models_list", { group });
export const modelShow = (version: number, group?: string) =>
  call<ModelDetail>("model_show", { version, group });
/**
 * `models_compare`: the comparison with its charts. Also accepts the layout
 * where the comparison is nested (`{comparison, charts}`).
 */
export async function modelsCompare(versions: number[], group?: string): Promise<ComparisonResult> {
  const raw = await call<Record<string, unknown>>("models_compare", { versions, group });
  if (isRecord(raw.comparison)) {
    return { ...(raw.comparison as Comparison), charts: raw.charts as ComparisonResult["charts"] };
  }
  return raw as unknown as ComparisonResult;
}
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

export const endpointStatus = () => call<EndpointStatus>("endpoint_status");
export const endpointStart = (port?: number) => call<EndpointStatus>("endpoint_start", { port });
export const endpointStop = () => call<EndpointStopped>("endpoint_stop");

/**
 * `promotion_diff`, in the contract's flat shape. Also accepts Rust's
 * `PromotionDiff` (drift as `{live_records, features}`), bare or nested as
 * `{diff, roc}`.
 */
export async function promotionDiff(version: number, group?: string): Promise<PromotionDiffResult> {
  const raw = await call<Record<string, unknown>>("promotion_diff", { version, group });
  const body = isRecord(raw.diff) ? raw.diff : raw;
  const drift = body.drift;
  const charts = isRecord(raw.charts)
    ? (raw.charts as PromotionDiffResult["charts"])
    : { roc: typeof raw.roc === "string" ? raw.roc : "" };
  let features: PromotionDiffResult["drift"] = [];
  let liveRecords = typeof body.live_records === "number" ? body.live_records : 0;
  if (Array.isArray(drift)) {
    features = drift as PromotionDiffResult["drift"];
  } else if (isRecord(drift)) {
    if (Array.isArray(drift.features)) features = drift.features as PromotionDiffResult["drift"];
    if (typeof drift.live_records === "number") liveRecords = drift.live_records;
  }
  return {
    candidate: body.candidate as PromotionDiffResult["candidate"],
    production: (body.production ?? null) as PromotionDiffResult["production"],
    deltas: (Array.isArray(body.deltas) ? body.deltas : []) as PromotionDiffResult["deltas"],
    drift: features,
    live_records: liveRecords,
    charts,
  };
}

export const deployPromote = (version: number, group?: string) =>
  call<Deployment>("deploy_promote", { version, group });
export const deployRollback = () => call<Deployment>("deploy_rollback");
export const deployHistory = () => call<DeployHistory>("deploy_history");

// ── Monitor ────────────────────────────────────────────────────────────────

/** `monitor`; drift is a list whether Rust sends it bare or as `{features}`. */
export async function monitor(range: MonitorRange): Promise<MonitorData> {
  const raw = await call<Record<string, unknown>>("monitor", { range });
  const drift = raw.drift;
  return {
    ...(raw as unknown as MonitorData),
    drift: Array.isArray(drift)
      ? (drift as MonitorData["drift"])
      : isRecord(drift) && Array.isArray(drift.features)
        ? (drift.features as MonitorData["drift"])
        : [],
  };
}
export const exportChartPng = (chart: ChartName, range: MonitorRange, path: string) =>
  call<ExportResult>("export_chart_png", { chart, range, path });

// ── Settings ───────────────────────────────────────────────────────────────

/** `settings`; the policy flags are read at the top level too. */
export async function settings(): Promise<Settings> {
  const raw = await call<Record<string, unknown>>("settings");
  const policy = isRecord(raw.policy) ? raw.policy : raw;
  return {
    ...(raw as unknown as Settings),
    policy: { four_eyes: policy.four_eyes === true, allow_as: policy.allow_as === true },
  };
}

// ── Events ─────────────────────────────────────────────────────────────────

/** Subscribes to `job://progress`; resolves to the unsubscribe function. */
export async function onJobProgress(cb: (e: JobProgressEvent) => void): Promise<UnlistenFn> {
  return listen<JobProgressEvent>("job://progress", (event) => cb(event.payload));
}

/** Subscribes to `upload://progress`; resolves to the unsubscribe function. */
export async function onUploadProgress(cb: (e: UploadProgressEvent) => void): Promise<UnlistenFn> {
  return listen<UploadProgressEvent>("upload://progress", (event) => cb(event.payload));
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
