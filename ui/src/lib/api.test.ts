import { describe, expect, it } from "vitest";

import { callsOf, invokeMock, mockIpc } from "../test/ipc";
import { promotionDiff as diffFixture } from "../test/fixtures";
import * as api from "./api";
import { ApiError, toApiError } from "./api";

describe("toApiError", () => {
  it("keeps the contract's {kind, message}", () => {
    const e = toApiError({
      kind: "permission",
      message: "al cannot approve: it needs the ml_lead role",
    });
    expect(e).toBeInstanceOf(ApiError);
    expect(e.kind).toBe("permission");
    expect(e.message).toBe("al cannot approve: it needs the ml_lead role");
  });

  it("unwraps the CLI's {error: {kind, message}}", () => {
    const e = toApiError({ error: { kind: "invalid_input", message: "missing customer_id" } });
    expect([e.kind, e.message]).toEqual(["invalid_input", "missing customer_id"]);
  });

  it("parses a JSON string of either shape", () => {
    expect(toApiError('{"kind":"refused","message":"already Approved"}').kind).toBe("refused");
    expect(toApiError('{"error":{"kind":"not_found","message":"no v9"}}').message).toBe("no v9");
  });

  it("takes a bare string as the message", () => {
    const e = toApiError("the endpoint did not answer");
    expect([e.kind, e.message]).toEqual(["unknown", "the endpoint did not answer"]);
  });

  it("maps an unknown kind to unknown and keeps the message", () => {
    const e = toApiError({ kind: "exploded", message: "boom" });
    expect([e.kind, e.message]).toEqual(["unknown", "boom"]);
  });

  it("handles Errors, ApiErrors and odd values", () => {
    expect(toApiError(new Error("js broke")).message).toBe("js broke");
    const same = new ApiError("usage", "x");
    expect(toApiError(same)).toBe(same);
    expect(toApiError(42).message).toContain("42");
    expect(toApiError("").message).not.toBe("");
  });
});

describe("commands", () => {
  it("rejects with an ApiError carrying Rust's message", async () => {
    mockIpc({
      model_approve: () => {
        throw { kind: "permission", message: "al cannot approve" };
      },
    });
    await expect(api.modelApprove({ version: 1, comment: "ok" })).rejects.toMatchObject({
      name: "ApiError",
      kind: "permission",
      message: "al cannot approve",
    });
  });

  it("sends camelCase arguments and leaves out the missing ones", async () => {
    mockIpc({ etl_features: () => ({ job_id: "job-000002" }) });
    await api.etlFeatures({ cleanKey: "sales/transactions.parquet", horizonDays: 90, cutoff: "" });
    expect(invokeMock).toHaveBeenCalledWith("etl_features", {
      cleanKey: "sales/transactions.parquet",
      horizonDays: 90,
    });
  });

  it("reads every page of a listing", async () => {
    const pages: Record<string, { objects: { key: string }[]; next_token: string | null }> = {
      first: { objects: [{ key: "a" }], next_token: "t1" },
      t1: { objects: [{ key: "b" }], next_token: "t2" },
      t2: { objects: [{ key: "c" }], next_token: null },
    };
    mockIpc({ data_list: (a) => pages[(a.pageToken as string | undefined) ?? "first"] });
    const seen: string[] = [];
    await api.dataListAll("raw", { pageSize: 1 }, (objs) => seen.push(...objs.map((o) => o.key)));
    expect(seen).toEqual(["a", "b", "c"]);
    expect(callsOf("data_list").map((a) => a.pageToken)).toEqual([undefined, "t1", "t2"]);
  });

  it("flattens a nested models_compare reply", async () => {
    const comparison = {
      versions: [2, 1],
      algorithms: ["et", "lr"],
      datasets: ["a", "b"],
      metrics: [{ metric: "cv.auc", values: [0.8, 0.7], deltas: [0, -0.1] }],
      schema_differences: [],
    };
    const charts = { roc: "<svg/>", metrics: "<svg/>", confusion: [], importance: [] };
    mockIpc({ models_compare: () => ({ comparison, charts }) });
    expect(await api.modelsCompare([2, 1])).toEqual({ ...comparison, charts });
    mockIpc({ models_compare: () => ({ ...comparison, charts }) });
    expect(await api.modelsCompare([2, 1])).toEqual({ ...comparison, charts });
  });

  it("reads promotion_diff nested as {diff, roc}", async () => {
    const flat = diffFixture();
    mockIpc({
      promotion_diff: () => ({
        diff: {
          candidate: flat.candidate,
          production: flat.production,
          deltas: flat.deltas,
          drift: { live_records: 12, features: flat.drift },
          since: "2026-11-27T00:00:00Z",
        },
        roc: "<svg>roc</svg>",
      }),
    });
    const d = await api.promotionDiff(2);
    expect(d.live_records).toBe(12);
    expect(d.drift).toEqual(flat.drift);
    expect(d.deltas).toEqual(flat.deltas);
    expect(d.charts.roc).toBe("<svg>roc</svg>");
    expect(d.candidate.version).toBe(2);
  });

  it("reads monitor drift as a list or as {features}", async () => {
    const features = [{ feature: "Recency", psi: 0.5, level: "drift", n: 3 }];
    const base = { requests: 1, errors: 0, windows: [], alarms: [], alarm_history: [], charts: {} };
    mockIpc({ monitor: () => ({ ...base, drift: features }) });
    expect((await api.monitor("1h")).drift).toEqual(features);
    mockIpc({ monitor: () => ({ ...base, drift: { since: "x", features } }) });
    expect((await api.monitor("1h")).drift).toEqual(features);
    mockIpc({ monitor: () => ({ ...base, drift: null }) });
    expect((await api.monitor("1h")).drift).toEqual([]);
  });

  it("reads the settings' policy flags nested or at the top level", async () => {
    const base = { workspace: "/ws", backend: "local", users: [] };
    mockIpc({ settings: () => ({ ...base, four_eyes: true, allow_as: false }) });
    expect((await api.settings()).policy).toEqual({ four_eyes: true, allow_as: false });
    mockIpc({ settings: () => ({ ...base, policy: { four_eyes: false, allow_as: true } }) });
    expect((await api.settings()).policy).toEqual({ four_eyes: false, allow_as: true });
  });

  it("fills the inspected columns from the header or the spec", async () => {
    mockIpc({
      data_inspect: () => ({
        path: "/x/bad.csv",
        size: 20,
        ingest: null,
        columns: ["Name", "Amount"],
        rows_sampled: 0,
        whole_file: true,
        problems: ["missing required columns"],
      }),
    });
    expect((await api.dataInspect("/x/bad.csv")).columns).toEqual(["Name", "Amount"]);
    mockIpc({
      data_inspect: () => ({
        ingest: {
          encoding: "utf-8",
          delimiter: ",",
          date_format: "%Y",
          columns: ["A"],
          mapping: [],
        },
        rows_sampled: 1,
        problems: [],
      }),
    });
    expect((await api.dataInspect("/x/a.csv")).columns).toEqual(["A"]);
  });

  it("accepts the Rust PromotionDiff layout for promotion_diff", async () => {
    const flat = diffFixture();
    mockIpc({
      promotion_diff: () => ({
        ...flat,
        drift: { live_records: 77, features: flat.drift },
        live_records: undefined,
        since: "2026-11-27T00:00:00Z",
      }),
    });
    const d = await api.promotionDiff(2);
    expect(d.live_records).toBe(77);
    expect(d.drift.map((f) => f.level)).toEqual(["drift", "watch", "ok"]);
  });
});
