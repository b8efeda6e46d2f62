import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { describe, expect, it, vi } from "vitest";

import { modelVersion } from "../test/fixtures";
import { callsOf, mockIpc } from "../test/ipc";
import type { ModelActions } from "../lib/types";
import ApprovalPanel from "./ApprovalPanel.svelte";

const allowed: ModelActions = {
  approve: { allowed: true, reason: null },
  reject: { allowed: true, reason: null },
  promote: { allowed: false, reason: "only Approved versions can be promoted" },
};

function button(id: string) {
  return screen.getByTestId(id) as HTMLButtonElement;
}

describe("ApprovalPanel", () => {
  it("keeps approve and reject disabled until a comment is written", async () => {
    mockIpc({
      model_actions: () => allowed,
      model_approve: (a) => modelVersion({ status: "Approved", comment: String(a.comment) }),
    });
    const ondecided = vi.fn();
    render(ApprovalPanel, { version: modelVersion(), ondecided });
    await waitFor(() => expect(callsOf("model_actions")).toHaveLength(1));
    expect(callsOf("model_actions")[0]).toEqual({ version: 1, group: "default" });

    expect(button("approve-button").disabled).toBe(true);
    expect(button("reject-button").disabled).toBe(true);
    expect(screen.queryByTestId("approve-reason")).toBeNull();

    await fireEvent.input(screen.getByTestId("approve-comment"), { target: { value: "   " } });
    expect(button("approve-button").disabled).toBe(true);

    await fireEvent.input(screen.getByTestId("approve-comment"), {
      target: { value: "Holdout AUC is fine" },
    });
    expect(button("approve-button").disabled).toBe(false);
    expect(button("reject-button").disabled).toBe(false);

    await fireEvent.click(button("approve-button"));
    await waitFor(() => expect(ondecided).toHaveBeenCalled());
    expect(callsOf("model_approve")[0]).toMatchObject({
      version: 1,
      group: "default",
      comment: "Holdout AUC is fine",
    });
  });

  it("shows why the current user may not approve, as visible text", async () => {
    const reason = "al cannot approve: it needs the ml_lead role";
    mockIpc({
      model_actions: () => ({
        approve: { allowed: false, reason },
        reject: { allowed: false, reason: "al cannot reject: it needs the ml_lead role" },
        promote: { allowed: false, reason: null },
      }),
    });
    render(ApprovalPanel, { version: modelVersion(), ondecided: vi.fn() });
    const shown = await screen.findByTestId("approve-reason");
    expect(shown.textContent).toBe(reason);
    expect(screen.getByTestId("reject-reason").textContent).toContain("ml_lead");

    await fireEvent.input(screen.getByTestId("approve-comment"), {
      target: { value: "looks good" },
    });
    expect(button("approve-button").disabled).toBe(true);
    expect(button("reject-button").disabled).toBe(true);
  });

  it("shows Rust's refusal next to the buttons", async () => {
    mockIpc({
      model_actions: () => allowed,
      model_reject: () => {
        throw { kind: "refused", message: "version 1 is already Approved" };
      },
    });
    render(ApprovalPanel, { version: modelVersion(), ondecided: vi.fn() });
    await waitFor(() => expect(callsOf("model_actions")).toHaveLength(1));
    await fireEvent.input(screen.getByTestId("approve-comment"), { target: { value: "no" } });
    await fireEvent.click(button("reject-button"));
    expect((await screen.findByTestId("error-approve")).textContent).toBe(
      "version 1 is already Approved",
    );
  });

  it("asks to accept the leakage risk for a flagged version", async () => {
    mockIpc({ model_actions: () => allowed, model_approve: () => modelVersion() });
    render(ApprovalPanel, {
      version: modelVersion({ leakage: [{ feature: "Recency", auc: 0.99 }] }),
      ondecided: vi.fn(),
    });
    await waitFor(() => expect(callsOf("model_actions")).toHaveLength(1));
    await fireEvent.click(screen.getByTestId("accept-leakage"));
    await fireEvent.input(screen.getByTestId("approve-comment"), { target: { value: "known" } });
    await fireEvent.click(button("approve-button"));
    await waitFor(() => expect(callsOf("model_approve")).toHaveLength(1));
    expect(callsOf("model_approve")[0]).toMatchObject({ acceptLeakageRisk: true });
  });
});
