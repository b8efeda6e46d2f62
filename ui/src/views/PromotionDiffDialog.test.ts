import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { describe, expect, it, vi } from "vitest";

import { promotionDiffView } from "../test/fixtures";
import { callsOf, mockIpc } from "../test/ipc";
import PromotionDiffDialog from "./PromotionDiffDialog.svelte";

describe("PromotionDiffDialog", () => {
  it("shows metric deltas with their direction and drift levels coloured", async () => {
    mockIpc({ promotion_diff: () => promotionDiffView() });
    render(PromotionDiffDialog, {
      version: 2,
      group: "default",
      onclose: vi.fn(),
      onpromoted: vi.fn(),
    });

    const rows = await screen.findAllByTestId("delta-row");
    expect(rows.map((r) => r.dataset.metric)).toEqual(["holdout.auc", "holdout.accuracy", "cv.f1"]);
    const deltas = screen.getAllByTestId("delta-value");
    expect(deltas.map((d) => d.textContent?.trim())).toEqual(["+0.050", "−0.020", "0.000"]);
    expect(deltas[0]?.classList.contains("up")).toBe(true);
    expect(deltas[1]?.classList.contains("down")).toBe(true);
    expect(deltas[2]?.classList.contains("flat")).toBe(true);

    const drift = screen.getAllByTestId("drift-row");
    expect(drift.map((r) => r.dataset.level)).toEqual(["drift", "watch", "ok"]);
    expect(drift.map((r) => r.className)).toEqual(["level-drift", "level-watch", "level-ok"]);
    expect(screen.getByTestId("live-records").textContent).toContain("1,234");
    expect(screen.queryByText(/too few to judge drift/)).toBeNull();
    expect(screen.getByTestId("chart-promotion-roc").querySelector("svg")).not.toBeNull();
    expect(callsOf("promotion_diff")[0]).toEqual({ version: 2, group: "default" });
  });

  it("says when there are too few live records to judge drift", async () => {
    mockIpc({ promotion_diff: () => promotionDiffView(12) });
    render(PromotionDiffDialog, { version: 2, onclose: vi.fn(), onpromoted: vi.fn() });
    const note = await screen.findByRole("note");
    expect(note.textContent).toContain("only 12 live records: too few to judge drift");
    expect(screen.getByTestId("live-records").textContent).toContain("12");
    expect(screen.getAllByTestId("drift-row")).toHaveLength(3);
  });

  it("promotes on confirm, and shows a refusal in the dialog", async () => {
    let refuse = true;
    mockIpc({
      promotion_diff: () => promotionDiffView(),
      deploy_promote: () => {
        if (refuse)
          throw { kind: "permission", message: "al cannot promote: it needs the ops role" };
        return {
          seq: 2,
          endpoint: "local",
          group: "default",
          version: 2,
          from_version: 1,
          action: "promote",
          actor: "ops",
          at: "t",
        };
      },
    });
    const onpromoted = vi.fn();
    render(PromotionDiffDialog, { version: 2, onclose: vi.fn(), onpromoted });
    await screen.findAllByTestId("delta-row");
    await fireEvent.click(screen.getByTestId("promote-confirm"));
    expect((await screen.findByTestId("error-promote")).textContent).toContain("ops role");
    refuse = false;
    await fireEvent.click(screen.getByTestId("promote-confirm"));
    await waitFor(() => expect(onpromoted).toHaveBeenCalled());
  });

  it("shows the load error", async () => {
    mockIpc({
      promotion_diff: () => {
        throw { kind: "refused", message: "version 3 is not Approved" };
      },
    });
    render(PromotionDiffDialog, { version: 3, onclose: vi.fn(), onpromoted: vi.fn() });
    expect((await screen.findByTestId("error-promotion-diff")).textContent).toBe(
      "version 3 is not Approved",
    );
    expect((screen.getByTestId("promote-confirm") as HTMLButtonElement).disabled).toBe(true);
  });
});
