import { describe, expect, it } from "vitest";

import { scrollToShow, visibleWindow } from "./virtual";

describe("visibleWindow", () => {
  it("renders only the visible slice of 10,000 rows", () => {
    const w = visibleWindow(10_000, 40, 0, 480, 6);
    expect(w.start).toBe(0);
    expect(w.end).toBe(13 + 6); // 12 visible + 1 partial, plus the overscan below
    expect(w.totalHeight).toBe(400_000);
    expect(w.end - w.start).toBeLessThan(30);
  });

  it("follows the scroll position, with overscan on both sides", () => {
    const w = visibleWindow(10_000, 40, 40 * 5000, 480, 6);
    expect(w.start).toBe(5000 - 6);
    expect(w.end).toBe(5000 + 13 + 6);
    expect(w.offsetTop).toBe(w.start * 40);
  });

  it("clamps at the end of the list", () => {
    const w = visibleWindow(10_000, 40, 10_000_000, 480, 6);
    expect(w.end).toBe(10_000);
    expect(w.start).toBe(10_000 - 12 - 6);
  });

  it("handles empty lists and short lists", () => {
    expect(visibleWindow(0, 40, 0, 480)).toEqual({
      start: 0,
      end: 0,
      offsetTop: 0,
      totalHeight: 0,
    });
    const w = visibleWindow(3, 40, 0, 480);
    expect([w.start, w.end]).toEqual([0, 3]);
  });

  it("ignores a negative scroll (elastic scrolling)", () => {
    expect(visibleWindow(100, 40, -200, 400, 0).start).toBe(0);
  });
});

describe("scrollToShow", () => {
  it("scrolls up or down just enough", () => {
    expect(scrollToShow(10, 40, 800, 400)).toBe(400);
    expect(scrollToShow(30, 40, 0, 400)).toBe(31 * 40 - 400);
    expect(scrollToShow(5, 40, 0, 400)).toBe(0);
  });
});
