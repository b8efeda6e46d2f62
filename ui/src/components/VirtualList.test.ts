import { fireEvent, render, screen } from "@testing-library/svelte";
import { describe, expect, it } from "vitest";

import VirtualListHarness from "../test/VirtualListHarness.svelte";

describe("VirtualList", () => {
  it("renders only the visible rows of 10,000", async () => {
    const items = Array.from({ length: 10_000 }, (_, i) => `object-${i}`);
    render(VirtualListHarness, { items, height: 400, rowHeight: 40 });
    const rows = screen.getAllByTestId("harness-row");
    expect(rows.length).toBeLessThan(30);
    expect(rows[0]?.textContent).toBe("object-0");

    const list = screen.getByTestId("harness-list");
    list.scrollTop = 40 * 5000;
    await fireEvent.scroll(list);
    const after = screen.getAllByTestId("harness-row");
    expect(after.length).toBeLessThan(30);
    expect(after.map((r) => r.textContent)).toContain("object-5000");
    expect(after.map((r) => r.textContent)).not.toContain("object-0");
  });

  it("shows the empty state", () => {
    render(VirtualListHarness, { items: [], height: 400, rowHeight: 40 });
    expect(screen.getByText("Nothing here")).toBeTruthy();
  });
});
