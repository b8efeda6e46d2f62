// The live jobs list: which jobs are still going, and how progress events
// update the rows between two polls.

import type {
  CleanReport,
  FeatureReport,
  Job,
  JobProgress,
  JobStatus,
  Preset,
  StageReport,
  TrainReport,
} from "./bindings";

export function isActive(status: JobStatus): boolean {
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
          status: e.status,
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

/**
 * `StageReport` is untagged (the report as the job keeps it): the job's kind
 * says which one it is, and a field only that report has confirms it.
 */
export function typedReport(job: Job, report: StageReport | null): TypedReport {
  const r = report ?? job.report;
  if (r == null) return { kind: "none" };
  if (job.kind === "clean" && "rules" in r) return { kind: "clean", report: r };
  if (job.kind === "features" && "cutoff" in r) return { kind: "features", report: r };
  if (job.kind === "train" && "leaderboard" in r) return { kind: "train", report: r };
  return { kind: "none" };
}

/** The preset a clean or features job runs with (a training has none). */
export function presetOf(job: Job): Preset | null {
  return job.params.kind === "train" ? null : job.params.preset;
}
