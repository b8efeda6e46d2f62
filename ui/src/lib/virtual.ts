// Windowing for long lists: which rows to render for a scroll position, so
// a table of 10,000+ objects keeps a few dozen rows in the DOM.

export type VisibleWindow = {
  /** First row to render (inclusive). */
  start: number;
  /** Row after the last one to render (exclusive). */
  end: number;
  /** Space above the first rendered row, px. */
  offsetTop: number;
  /** Height of all rows, px: the scroll range. */
  totalHeight: number;
};

/**
 * Rows visible in a viewport of `viewportHeight` px scrolled to `scrollTop`,
 * with `overscan` extra rows above and below so fast scrolling shows no gap.
 */
export function visibleWindow(
  count: number,
  rowHeight: number,
  scrollTop: number,
  viewportHeight: number,
  overscan = 6,
): VisibleWindow {
  const totalHeight = Math.max(0, count) * rowHeight;
  if (count <= 0 || rowHeight <= 0) {
    return { start: 0, end: 0, offsetTop: 0, totalHeight };
  }
  const maxScroll = Math.max(0, totalHeight - viewportHeight);
  const top = Math.min(Math.max(0, scrollTop), maxScroll);
  const first = Math.floor(top / rowHeight);
  const shown = Math.ceil(Math.max(0, viewportHeight) / rowHeight) + 1;
  const start = Math.max(0, first - overscan);
  const end = Math.min(count, first + shown + overscan);
  return { start, end, offsetTop: start * rowHeight, totalHeight };
}

/** The scroll position that brings row `index` into view (or keeps the current one). */
export function scrollToShow(
  index: number,
  rowHeight: number,
  scrollTop: number,
  viewportHeight: number,
): number {
  const top = index * rowHeight;
  if (top < scrollTop) return top;
  const bottom = top + rowHeight;
  if (bottom > scrollTop + viewportHeight) return bottom - viewportHeight;
  return scrollTop;
}
