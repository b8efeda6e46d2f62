import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { describe, expect, it, vi } from "vitest";

import type { TrashEntry } from "../lib/bindings";
import { callsOf, mockIpc } from "../test/ipc";
import TrashPanel from "./TrashPanel.svelte";

function entry(key: string, stamp: string): TrashEntry {
  return {
    id: `raw/${stamp}/${key}`,
    bucket: "raw",
    key,
    deleted_at: "2026-11-28T05:28:01.123Z",
    size: 2048,
    path: `/ws/trash/raw/${stamp}/${key}`,
  };
}

describe("TrashPanel", () => {
  it("lists the trash and restores an entry", async () => {
    const entries = [entry("b.csv", "20261128T052801.1Z"), entry("a.csv", "20261128T052700.1Z")];
    mockIpc({
      data_trash: () => entries,
      data_restore: (a) => ({
        bucket: "raw",
        key: String(a.id).split("/").slice(2).join("/"),
        size: 2048,
        modified: "t",
        storage_class: "STANDARD",
        metadata: {},
      }),
    });
    const onrestored = vi.fn();
    render(TrashPanel, { onrestored });
    await waitFor(() => expect(screen.getAllByTestId("trash-row")).toHaveLength(2));
    expect(screen.getByText("Trash (2)")).toBeTruthy();

    await fireEvent.click(screen.getAllByTestId("trash-restore")[1] as HTMLElement);
    await waitFor(() => expect(screen.getAllByTestId("trash-row")).toHaveLength(1));
    expect(callsOf("data_restore")).toEqual([{ id: "raw/20261128T052700.1Z/a.csv" }]);
    expect(onrestored).toHaveBeenCalledWith(expect.objectContaining({ key: "a.csv" }));
    expect(screen.getAllByTestId("trash-row")[0]?.dataset.id).toBe("raw/20261128T052801.1Z/b.csv");
  });

  it("shows Rust's refusal and keeps the entry", async () => {
    const refusal = "raw/b.csv exists now; delete or move it before restoring the trashed one";
    mockIpc({
      data_trash: () => [entry("b.csv", "20261128T052801.1Z")],
      data_restore: () => {
        throw { kind: "refused", message: refusal };
      },
    });
    render(TrashPanel, { onrestored: vi.fn() });
    await fireEvent.click(await screen.findByTestId("trash-restore"));
    expect((await screen.findByTestId("error-trash-restore")).textContent).toBe(refusal);
    expect(screen.getAllByTestId("trash-row")).toHaveLength(1);
  });
});
