import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { describe, expect, it } from "vitest";

import App from "./App.svelte";
import { app } from "./lib/app.svelte";
import {
  comparisonView,
  endpointState,
  modelVersion,
  monitorView,
  session,
  settingsView,
  trainingOptions,
} from "./test/fixtures";
import { callsOf, mockIpc } from "./test/ipc";

function backend() {
  let current = session();
  return mockIpc({
    session: () => current,
    switch_user: (a) => {
      current = session({ user: String(a.name), roles: ["analyst"] });
      return current;
    },
    notifications: () => ({ pending_approvals: [modelVersion()], firing_alarms: [] }),
    data_list: (a) => ({
      objects: Array.from({ length: a.bucket === "raw" ? 3 : 0 }, (_, i) => ({
        bucket: "raw",
        key: `sales-${i}.csv`,
        size: 1000 * i,
        modified: "2026-11-27T23:18:21Z",
        storage_class: "STANDARD",
        metadata: {},
      })),
      next_token: null,
    }),
    jobs_list: () => ({ jobs: [] }),
    training_options: () => trainingOptions(),
    data_trash: () => [],
    models_list: () => ({
      group: "default",
      versions: [modelVersion({ version: 2 }), modelVersion({ version: 1, status: "Approved" })],
    }),
    model_actions: () => ({
      approve: { allowed: true, reason: null },
      reject: { allowed: true, reason: null },
      promote: { allowed: true, reason: null },
    }),
    model_show: () => {
      throw { kind: "not_found", message: "no card" };
    },
    models_compare: () => comparisonView(),
    endpoint_status: () => endpointState(),
    deploy_history: () => ({
      deployments: [],
      rollback: { allowed: false, reason: "nothing is deployed; promote a version first" },
    }),
    monitor: () => monitorView(5),
    settings: () => settingsView({ workspace: "/ws" }),
  });
}

describe("App", () => {
  it("shows the session and every view", async () => {
    backend();
    render(App);
    expect((await screen.findByTestId("header-user")).textContent).toContain("ana");
    expect(screen.getByTestId("header-workspace").textContent).toBe(
      "/home/ana/.local/share/tablero",
    );
    await waitFor(() => expect(screen.getAllByTestId("object-row")).toHaveLength(3));
    expect(screen.getAllByTestId("object-row")[1]?.dataset.key).toBe("sales-1.csv");

    await fireEvent.click(screen.getByTestId("nav-pipeline"));
    expect(await screen.findByTestId("clean-start")).toBeTruthy();

    await fireEvent.click(screen.getByTestId("nav-models"));
    const rows = await screen.findAllByTestId("model-row");
    expect(rows.map((r) => r.dataset.version)).toEqual(["2", "1"]);
    const compare = screen.getByTestId("compare-button") as HTMLButtonElement;
    expect(compare.disabled).toBe(true);
    for (const c of screen.getAllByTestId("compare-check")) await fireEvent.click(c);
    expect(compare.disabled).toBe(false);
    await fireEvent.click(compare);
    expect(await screen.findByTestId("compare-panel")).toBeTruthy();
    expect(screen.getByTestId("compare-metrics").textContent).toContain("cv.accuracy");
    expect(screen.getByTestId("compare-schema").textContent).toContain("Country");
    expect(screen.getByTestId("chart-compare-roc").querySelector("svg")).not.toBeNull();
    expect(screen.getByTestId("chart-compare-metrics").querySelector("svg")).not.toBeNull();
    expect(callsOf("models_compare")[0]).toEqual({ versions: [2, 1], group: "default" });

    await fireEvent.click(screen.getByTestId("nav-deploy"));
    expect((await screen.findByTestId("endpoint-state")).textContent).toBe("stopped");
    expect(await screen.findByTestId("promote-button")).toBeTruthy();

    await fireEvent.click(screen.getByTestId("nav-monitor"));
    await waitFor(() => expect(screen.getByTestId("monitor-requests").textContent).toBe("5"));

    await fireEvent.click(screen.getByTestId("nav-settings"));
    expect((await screen.findByTestId("settings-workspace")).textContent).toBe("/ws");
  });

  it("switches the user and reloads the view as them", async () => {
    backend();
    app.view = "data";
    render(App);
    const sel = (await screen.findByTestId("user-switcher")) as HTMLSelectElement;
    await fireEvent.change(sel, { target: { value: "al" } });
    await waitFor(() => expect(screen.getByTestId("header-user").textContent).toContain("al"));
    expect(callsOf("switch_user")).toEqual([{ name: "al" }]);
  });
});
