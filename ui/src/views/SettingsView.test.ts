import { render, screen } from "@testing-library/svelte";
import { describe, expect, it } from "vitest";

import { settingsView } from "../test/fixtures";
import { mockIpc } from "../test/ipc";
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
});
