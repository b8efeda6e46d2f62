// The live jobs list: which jobs are still going, and how progress events
// update the rows between two polls.

import type { CleanReport, FeatureReport, Job, JobProgress, JobStatus } from "./bindings";
import type { TrainReport } from "./types";

const STATUSES: readonly string[] = [
  "queued",
  "running",
  "succeeded",
  "failed",
  "cancelled",
] satisfies readonly JobStatus[];

/** A `job://progress` event's status (a string on the Rust side) as a `JobStatus`, if it is one. */
export function jobStatus(s: string): JobStatus | null {
  return STATUSES.includes(s) ? (s as JobStatus) : null;
}

export function isActive(status: string): boolean {
  return status === "queued" || status === "running";
}

export function anyActive(jobs: readonly Job[]): boolean {
  return jobs.some((j) => isActive(j.status));
}

/** Applies a `job://progress` event to the list (a job not listed yet is left to the next poll). */
export function applyProgress(jobs: readonly Job[], e: JobProgress): Job[] {
  return jobs.map((j) =>
    j.id === e.id
      ? {
          ...j,
          status: jobStatus(e.status) ?? j.status,
          progress: Number.isFinite(e.fraction) ? e.fraction : j.progress,
          phase: e.message || j.phase,
        }
      : j,
  );
}

/** The report of a succeeded job, typed by the job's kind. */
export type TypedReport =
  | { kind: "clean"; report: CleanReport }
  | { kind: "features"; report: FeatureReport }
  | { kind: "train"; report: TrainReport }
  | { kind: "none" };

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function typedReport(job: Job, report: unknown): TypedReport {
  const r = report ?? job.report;
  if (!isRecord(r)) return { kind: "none" };
  if (job.kind === "clean" && Array.isArray(r.rules))
    return { kind: "clean", report: r as CleanReport };
  if (job.kind === "features" && typeof r.customers === "number")
    return { kind: "features", report: r as FeatureReport };
  if (job.kind === "train" && Array.isArray(r.leaderboard))
    return { kind: "train", report: r as unknown as TrainReport };
  return { kind: "none" };
}

/** A string parameter of the job request (`preset`, `raw_key`…), for display. */
export function param(job: Job, name: string): string | null {
  if (!isRecord(job.params)) return null;
  const v = job.params[name];
  return v == null ? null : String(v);
}
