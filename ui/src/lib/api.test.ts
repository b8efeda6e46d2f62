import { describe, expect, it } from "vitest";

import { callsOf, invokeMock, mockIpc } from "../test/ipc";
import {
  comparisonView,
  endpointState,
  fileInspection,
  monitorView,
  promotionDiffView,
  session,
  settingsView,
  trainingOptions,
} from "../test/fixtures";
import * as api from "./api";
import { ApiError, toApiError } from "./api";
import type { ErrorKind } from "./bindings";
import { connection } from "./connection.svelte";

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

  it("keeps every kind Rust sends, cancelled, unsupported and offline included", () => {
    expect(toApiError({ kind: "cancelled", message: "the upload was cancelled" }).kind).toBe(
      "cancelled",
    );
    const kinds: ErrorKind[] = [
      "usage",
      "not_found",
      "not_initialised",
      "invalid_input",
      "invalid_key",
      "permission",
      "refused",
      "cancelled",
      "unsupported",
      "offline",
    ];
    for (const kind of kinds) {
      const e = toApiError({ kind, message: `a ${kind} refusal` });
      expect([e.kind, e.message]).toEqual([kind, `a ${kind} refusal`]);
    }
  });

  it("does not take an inherited property name for a kind", () => {
    expect(toApiError({ kind: "toString", message: "x" }).kind).toBe("unknown");
  });

  it("takes a bare string (Tauri's own refusals) as the message", () => {
    const e = toApiError("invalid args `version` for command `model_show`");
    expect([e.kind, e.message]).toEqual([
      "unknown",
      "invalid args `version` for command `model_show`",
    ]);
    const json = toApiError('{"kind":"refused","message":"x"}');
    expect([json.kind, json.message]).toEqual(["unknown", '{"kind":"refused","message":"x"}']);
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

  it("returns models_compare's ComparisonView as Rust sends it", async () => {
    const view = comparisonView();
    mockIpc({ models_compare: () => view });
    expect(await api.modelsCompare([2, 1])).toEqual(view);
    expect(callsOf("models_compare")[0]).toEqual({ versions: [2, 1] });
  });

  it("returns promotion_diff's PromotionDiffView as Rust sends it", async () => {
    const view = promotionDiffView(12);
    mockIpc({ promotion_diff: () => view });
    const d = await api.promotionDiff(2, "default");
    expect(d).toEqual(view);
    expect(d.diff.drift).toMatchObject({ live_records: 12, enough: false });
    expect(callsOf("promotion_diff")[0]).toEqual({ version: 2, group: "default" });
  });

  it("returns monitor's MonitorView as Rust sends it", async () => {
    const view = monitorView(3);
    mockIpc({ monitor: () => view });
    expect(await api.monitor("24h")).toEqual(view);
    expect(callsOf("monitor")[0]).toEqual({ range: "24h" });
  });

  it("returns settings' SettingsView with the policy flags at the top level", async () => {
    mockIpc({ settings: () => settingsView({ four_eyes: false }) });
    const s = await api.settings();
    expect([s.four_eyes, s.allow_as]).toEqual([false, true]);
  });

  it("returns data_inspect's FileInspection, ingest null included", async () => {
    const bad = fileInspection({ ingest: null, problems: ["missing required columns"] });
    mockIpc({ data_inspect: () => bad });
    expect(await api.dataInspect("/data/shop.csv", "")).toEqual(bad);
    expect(callsOf("data_inspect")[0]).toEqual({ path: "/data/shop.csv" });
    expect(callsOf("data_inspect")[0]).not.toHaveProperty("encoding", expect.anything());
  });

  it("sends data_inspect's and data_upload's declared encoding", async () => {
    mockIpc({ data_inspect: () => fileInspection(), data_upload: () => ({}) });
    await api.dataInspect("/data/shop.csv", "Qty=quantity", "windows-1252");
    await api.dataUpload({ path: "/data/shop.csv", encoding: "latin-1" });
    expect(callsOf("data_inspect")[0]).toEqual({
      path: "/data/shop.csv",
      map: "Qty=quantity",
      encoding: "windows-1252",
    });
    expect(callsOf("data_upload")[0]).toEqual({ path: "/data/shop.csv", encoding: "latin-1" });
  });

  it("returns training_options' candidates, metrics and defaults as Rust sends them", async () => {
    const options = trainingOptions();
    mockIpc({ training_options: () => options });
    expect(await api.trainingOptions()).toEqual(options);
    expect(callsOf("training_options")).toEqual([{}]);
  });

  it("sends export_chart_png's chart and range", async () => {
    mockIpc({ export_chart_png: (a) => ({ path: String(a.path) }) });
    expect(await api.exportChartPng("latency", "7d", "/tmp/latency.png")).toEqual({
      path: "/tmp/latency.png",
    });
    expect(callsOf("export_chart_png")[0]).toEqual({
      chart: "latency",
      range: "7d",
      path: "/tmp/latency.png",
    });
  });

  it("starts the endpoint on the port given (0: any free port)", async () => {
    const state = endpointState({ running: true, url: "http://127.0.0.1:49152", pid: 7 });
    mockIpc({ endpoint_start: () => state });
    expect(await api.endpointStart(0)).toEqual(state);
    expect(callsOf("endpoint_start")[0]).toEqual({ port: 0 });
  });

  it("sends the AWS settings' text to aws_check and aws_save, and the kind to backend_select", async () => {
    const checks = [{ call: "sts:GetCallerIdentity", ok: true, message: "ana; roles: ml_lead" }];
    mockIpc({
      aws_settings: () => "[aws]\n",
      aws_check: () => checks,
      aws_save: () => session({ backend: "aws" }),
      backend_select: () => session({ backend: "local" }),
    });
    expect(await api.awsSettings()).toBe("[aws]\n");
    expect(await api.awsCheck("[aws]\nregion = 'x'\n")).toEqual(checks);
    expect((await api.awsSave("[aws]\n")).backend).toBe("aws");
    expect((await api.backendSelect("local")).backend).toBe("local");
    expect(callsOf("aws_settings")).toEqual([{}]);
    expect(callsOf("aws_check")).toEqual([{ text: "[aws]\nregion = 'x'\n" }]);
    expect(callsOf("aws_save")).toEqual([{ text: "[aws]\n" }]);
    expect(callsOf("backend_select")).toEqual([{ kind: "local" }]);
  });
});

describe("connection", () => {
  it("is lost on an offline refusal and back on the next success, whatever the command", async () => {
    let up = false;
    mockIpc({
      models_list: () => {
        if (!up) throw { kind: "offline", message: "AWS is unreachable: connection refused" };
        return { group: "default", versions: [] };
      },
      settings: () => settingsView(),
      data_trash: () => {
        throw { kind: "refused", message: "the trash is locked" };
      },
    });
    connection.reached();
    await expect(api.modelsList()).rejects.toMatchObject({ kind: "offline" });
    expect(connection.offline).toBe("AWS is unreachable: connection refused");
    expect(connection.covers("AWS is unreachable: connection refused")).toBe(true);
    expect(connection.covers("the trash is locked")).toBe(false);

    await expect(api.dataTrash()).rejects.toMatchObject({ kind: "refused" });
    expect(connection.offline).toBe("AWS is unreachable: connection refused");

    up = true;
    await api.settings();
    expect(connection.offline).toBeNull();
    expect(connection.covers("AWS is unreachable: connection refused")).toBe(false);
  });
});
