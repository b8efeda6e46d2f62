import { describe, expect, it } from "vitest";

import type { Job, StageReport } from "./bindings";
import { anyActive, applyProgress, presetOf, typedReport } from "./jobs";

/** A report cut down to the fields `typedReport` looks at. */
const partial = (fields: Record<string, unknown>) => fields as unknown as StageReport;

const job = (over: Partial<Job> = {}): Job => ({
  id: "job-000001",
  kind: "clean",
  status: "running",
  actor: "ana",
  created_at: "2026-11-27T23:18:21Z",
  started_at: "2026-11-27T23:18:22Z",
  finished_at: null,
  progress: 0.1,
  phase: "reading",
  input: { bucket: "raw", key: "sales.csv" },
  params: { kind: "clean", raw_key: "sales.csv", preset: "standard", out_key: null },
  output: null,
  report: null,
  error: null,
  ...over,
});

describe("jobs", () => {
  it("knows when something is still going", () => {
    expect(anyActive([job({ status: "succeeded" }), job({ status: "queued" })])).toBe(true);
    expect(anyActive([job({ status: "failed" })])).toBe(false);
  });

  it("applies progress events to the matching job only", () => {
    const jobs = [job(), job({ id: "job-000002", progress: 0 })];
    const next = applyProgress(jobs, {
      id: "job-000001",
      status: "running",
      fraction: 0.6,
      message: "rules",
    });
    expect(next[0]).toMatchObject({ progress: 0.6, phase: "rules" });
    expect(next[1]).toBe(jobs[1]);
  });

  it("takes the event's status, and keeps the phase when the event has no message", () => {
    const next = applyProgress([job()], {
      id: "job-000001",
      status: "succeeded",
      fraction: 1,
      message: "",
    });
    expect(next[0]).toMatchObject({ status: "succeeded", progress: 1, phase: "reading" });
  });

  it("types a report by the job's kind", () => {
    const clean = job({ status: "succeeded" });
    expect(typedReport(clean, partial({ rules: [], rows_in: 1 })).kind).toBe("clean");
    expect(typedReport(job({ kind: "train" }), partial({ leaderboard: [] })).kind).toBe("train");
    const features = partial({ customers: 3, cutoff: "2011-09-01 00:00:00" });
    expect(typedReport(job({ kind: "features" }), features).kind).toBe("features");
    // A clean report has customers too, but no cut-off.
    expect(typedReport(job({ kind: "features" }), partial({ customers: 3, rules: [] })).kind).toBe(
      "none",
    );
    expect(typedReport(clean, null).kind).toBe("none");
  });

  it("reads the preset of a clean or features job", () => {
    expect(presetOf(job())).toBe("standard");
    const train = job({
      kind: "train",
      params: {
        kind: "train",
        features_key: "sales/features.parquet",
        group: "default",
        config: {
          sort: "accuracy",
          folds: 3,
          test_size: 0.2,
          seed: 123,
          candidates: ["lr"],
          threshold: 0.5,
        },
      },
    });
    expect(presetOf(train)).toBeNull();
  });
});
