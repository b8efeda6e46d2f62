// Mirrors tablero_core::job::Job.
import type { JobKind } from "./JobKind";
import type { JobStatus } from "./JobStatus";
import type { ObjectRef } from "./ObjectRef";

/**
 * A job as shown by `jobs show` and printed by `etl … --json`.
 */
export type Job = {
  id: string;
  kind: JobKind;
  status: JobStatus;
  actor: string;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  /** Fraction done, 0..1. */
  progress: number;
  phase: string;
  input: ObjectRef;
  /** serde_json::Value: the job request (preset, cut-off, horizon…). */
  params: unknown;
  output: ObjectRef | null;
  /** serde_json::Value: the stage's report, once succeeded. */
  report: unknown;
  error: string | null;
};
