import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { describe, expect, it } from "vitest";

import { app } from "../lib/app.svelte";
import { session, settingsView } from "../test/fixtures";
import { callsOf, mockIpc } from "../test/ipc";
import SettingsView from "./SettingsView.svelte";

describe("SettingsView", () => {
  it("shows the workspace, users and the policy flags Rust sends at the top level", async () => {
    mockIpc({ settings: () => settingsView({ four_eyes: true, allow_as: false }) });
    render(SettingsView);
    expect((await screen.findByTestId("settings-workspace")).textContent).toBe("/ws");
    expect(screen.getByTestId("settings-backend").textContent).toBe("local");
    expect(screen.getAllByTestId("settings-user-row").map((r) => r.dataset.user)).toEqual([
      "ana",
      "lead",
      "al",
    ]);
    expect(screen.getByTestId("policy-four-eyes").textContent).toContain("on");
    expect(screen.getByTestId("policy-allow-as").textContent).toContain("not allowed");
  });

  it("shows Rust's error inline", async () => {
    mockIpc({
      settings: () => {
        throw { kind: "not_initialised", message: "no workspace at /tmp/x: run tablero init" };
      },
    });
    render(SettingsView);
    expect((await screen.findByTestId("error-settings")).textContent).toContain("tablero init");
  });

  it("opens another workspace: the session changes and every view reloads", async () => {
    mockIpc({
      settings: () => settingsView(),
      workspace_open: ({ path }) => session({ workspace: String(path).trim() }),
    });
    render(SettingsView);
    const open = (await screen.findByTestId("workspace-open")) as HTMLButtonElement;
    expect(open.disabled).toBe(true);
    const epoch = app.sessionEpoch;
    await fireEvent.input(screen.getByTestId("workspace-path"), {
      target: { value: " /data/shop-ws " },
    });
    expect(open.disabled).toBe(false);
    await fireEvent.click(open);
    await waitFor(() => expect(app.sessionEpoch).toBe(epoch + 1));
    expect(callsOf("workspace_open")).toEqual([{ path: " /data/shop-ws " }]);
    expect(app.session?.workspace).toBe("/data/shop-ws");
    expect(screen.queryByTestId("error-workspace-open")).toBeNull();
  });

  it("shows why a folder cannot be opened, and keeps the workspace", async () => {
    const refusal =
      "/home/ana/photos is not a Tablero workspace (it has no tablero.toml) and is not empty; choose a workspace folder, or an empty folder to create one in";
    mockIpc({
      settings: () => settingsView(),
      workspace_open: () => {
        throw { kind: "refused", message: refusal };
      },
    });
    render(SettingsView);
    const epoch = app.sessionEpoch;
    await fireEvent.input(await screen.findByTestId("workspace-path"), {
      target: { value: "/home/ana/photos" },
    });
    await fireEvent.click(screen.getByTestId("workspace-open"));
    expect((await screen.findByTestId("error-workspace-open")).textContent).toBe(refusal);
    expect(app.sessionEpoch).toBe(epoch);
  });
});
