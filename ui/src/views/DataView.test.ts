import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { describe, expect, it } from "vitest";

import type { ObjectInfo, TrashEntry } from "../lib/bindings";
import { callsOf, mockIpc } from "../test/ipc";
import DataView from "./DataView.svelte";

function object(key: string): ObjectInfo {
  return {
    bucket: "raw",
    key,
    size: 1234,
    modified: "2026-11-27T23:18:21Z",
    storage_class: "STANDARD",
    metadata: {},
  };
}

function backend(restore: () => ObjectInfo) {
  let keys = ["a.csv", "b.csv", "c.csv"];
  return mockIpc({
    data_list: (a) => ({
      objects: a.bucket === "raw" ? keys.map(object) : [],
      next_token: null,
    }),
    jobs_list: () => ({ jobs: [] }),
    data_trash: () => [],
    data_delete: (a): TrashEntry => {
      keys = keys.filter((k) => k !== a.key);
      return {
        id: `raw/20261128T052801.123456Z/${String(a.key)}`,
        bucket: "raw",
        key: String(a.key),
        deleted_at: "2026-11-28T05:28:01.123Z",
        size: 1234,
        path: `/ws/trash/raw/20261128T052801.123456Z/${String(a.key)}`,
      };
    },
    data_restore: () => {
      const info = restore();
      keys = [...keys, info.key].sort();
      return info;
    },
  });
}

const keysShown = () => screen.getAllByTestId("object-row").map((r) => r.dataset.key);

async function deleteB() {
  await waitFor(() => expect(keysShown()).toEqual(["a.csv", "b.csv", "c.csv"]));
  const row = screen.getAllByTestId("object-row")[1];
  const button = row?.querySelector<HTMLButtonElement>('[data-testid="delete-button"]');
  await fireEvent.click(button as HTMLButtonElement);
  await fireEvent.click(await screen.findByTestId("delete-confirm"));
  await waitFor(() => expect(keysShown()).toEqual(["a.csv", "c.csv"]));
}

describe("DataView", () => {
  it("moves an object to the trash and undoes it in place", async () => {
    backend(() => object("b.csv"));
    render(DataView);
    await deleteB();

    const notice = await screen.findByTestId("deleted-notice");
    expect(notice.textContent).toContain("raw/b.csv");
    await fireEvent.click(screen.getByTestId("undo-delete"));
    await waitFor(() => expect(keysShown()).toEqual(["a.csv", "b.csv", "c.csv"]));
    expect(callsOf("data_restore")).toEqual([{ id: "raw/20261128T052801.123456Z/b.csv" }]);
    expect(screen.queryByTestId("deleted-notice")).toBeNull();
  });

  it("shows why an undo is refused and keeps the notice", async () => {
    const refusal = "raw/b.csv exists now; delete or move it before restoring the trashed one";
    backend(() => {
      throw { kind: "refused", message: refusal };
    });
    render(DataView);
    await deleteB();
    await fireEvent.click(await screen.findByTestId("undo-delete"));
    expect((await screen.findByTestId("error-restore")).textContent).toBe(refusal);
    expect(screen.getByTestId("deleted-notice")).toBeTruthy();
    expect(keysShown()).toEqual(["a.csv", "c.csv"]);
  });
});
