import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { describe, expect, it } from "vitest";

import type { DeployAction, DeployHistory, Deployment } from "../lib/bindings";
import { endpointState, modelVersion } from "../test/fixtures";
import { callsOf, mockIpc } from "../test/ipc";
import DeployView from "./DeployView.svelte";

function deployment(
  seq: number,
  version: number,
  from: number | null,
  action: DeployAction = "promote",
): Deployment {
  return {
    seq,
    endpoint: "local",
    group: "default",
    version,
    from_version: from,
    action,
    actor: "olga",
    at: "2026-11-28T03:05:47.000Z",
  };
}

describe("DeployView", () => {
  it("disables rollback with Rust's reason after the first deployment", async () => {
    mockIpc({
      endpoint_status: () => endpointState(),
      models_list: () => ({
        group: "default",
        versions: [modelVersion({ version: 1, status: "Approved" })],
      }),
      model_actions: () => ({
        approve: { allowed: false, reason: "already Approved" },
        reject: { allowed: false, reason: "already Approved" },
        promote: { allowed: false, reason: "default version 1 is already deployed" },
      }),
      deploy_history: (): DeployHistory => ({
        deployments: [deployment(1, 1, null)],
        rollback: {
          allowed: false,
          reason: "default version 1 is the first deployment; there is nothing to roll back to",
        },
      }),
    });
    render(DeployView);

    const reason = await screen.findByTestId("rollback-reason");
    expect(reason.textContent).toContain("nothing to roll back to");
    expect((screen.getByTestId("rollback-button") as HTMLButtonElement).disabled).toBe(true);
    const promoteReason = await screen.findByTestId("promote-reason");
    expect(promoteReason.textContent).toBe("default version 1 is already deployed");
    expect((screen.getByTestId("promote-button") as HTMLButtonElement).disabled).toBe(true);
  });

  it("rolls back to the previous deployment and reloads what may be promoted", async () => {
    let history = [deployment(2, 2, 1), deployment(1, 1, null)];
    mockIpc({
      endpoint_status: () => endpointState(),
      models_list: () => ({
        group: "default",
        versions: [
          modelVersion({ version: 2, status: "Approved" }),
          modelVersion({ version: 1, status: "Approved" }),
        ],
      }),
      model_actions: () => ({
        approve: { allowed: false, reason: null },
        reject: { allowed: false, reason: null },
        promote: { allowed: true, reason: null },
      }),
      deploy_history: (): DeployHistory => ({
        deployments: history,
        rollback: { allowed: true, reason: null },
      }),
      deploy_rollback: () => {
        history = [deployment(3, 1, 2, "rollback"), ...history];
        return history[0];
      },
    });
    render(DeployView);

    const button = await screen.findByTestId("rollback-button");
    await waitFor(() => expect((button as HTMLButtonElement).disabled).toBe(false));
    expect(screen.queryByTestId("rollback-reason")).toBeNull();
    await fireEvent.click(button);
    const dialog = await screen.findByRole("dialog");
    expect(dialog.textContent).toContain("Return from v2 to v1");
    await fireEvent.click(screen.getByTestId("rollback-confirm"));

    await waitFor(() => expect(screen.getAllByTestId("history-entry")).toHaveLength(3));
    expect(screen.getAllByTestId("history-entry")[0]?.textContent).toContain("Rolled back");
    expect(callsOf("deploy_rollback")).toHaveLength(1);
    // Promotion rights were asked again after the deployment changed.
    expect(callsOf("models_list").length).toBeGreaterThanOrEqual(2);
  });
});
