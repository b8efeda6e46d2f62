import { describe, expect, it } from "vitest";

import type { Job } from "./bindings";
import { anyActive, applyProgress, jobStatus, param, typedReport } from "./jobs";

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

  it("keeps the listed status when an event's status is not a JobStatus", () => {
    expect(jobStatus("succeeded")).toBe("succeeded");
    expect(jobStatus("exploded")).toBeNull();
    const next = applyProgress([job()], {
      id: "job-000001",
      status: "exploded",
      fraction: 0.7,
      message: "",
    });
    expect(next[0]).toMatchObject({ status: "running", progress: 0.7, phase: "reading" });
  });

  it("types a report by the job's kind", () => {
    const clean = job({ status: "succeeded" });
    expect(typedReport(clean, { rules: [], rows_in: 1 }).kind).toBe("clean");
    expect(typedReport(job({ kind: "train" }), { leaderboard: [] }).kind).toBe("train");
    expect(typedReport(job({ kind: "features" }), { customers: 3 }).kind).toBe("features");
    expect(typedReport(clean, null).kind).toBe("none");
    expect(param(clean, "preset")).toBe("standard");
    expect(param(clean, "out_key")).toBeNull();
  });
});
