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
