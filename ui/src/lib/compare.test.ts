import { describe, expect, it } from "vitest";

import { canCompare, canSelect, selectionHint, toggleSelection } from "./compare";

describe("compare selection", () => {
  it("needs 2 to 4 versions", () => {
    expect(canCompare([])).toBe(false);
    expect(canCompare([3])).toBe(false);
    expect(canCompare([3, 1])).toBe(true);
    expect(canCompare([3, 1, 2, 4])).toBe(true);
    expect(canCompare([1, 2, 3, 4, 5])).toBe(false);
  });

  it("toggles in selection order and refuses a fifth", () => {
    let s: number[] = [];
    for (const v of [5, 2, 9, 1]) s = toggleSelection(s, v);
    expect(s).toEqual([5, 2, 9, 1]);
    expect(toggleSelection(s, 7)).toEqual([5, 2, 9, 1]);
    expect(canSelect(s, 7)).toBe(false);
    expect(canSelect(s, 9)).toBe(true);
    s = toggleSelection(s, 2);
    expect(s).toEqual([5, 9, 1]);
    expect(canSelect(s, 7)).toBe(true);
  });

  it("explains the selection", () => {
    expect(selectionHint([1])).toMatch(/Pick 2–4/);
    expect(selectionHint([1, 2])).toBe("2 selected.");
    expect(selectionHint([1, 2, 3, 4])).toMatch(/at most 4/);
  });
});
