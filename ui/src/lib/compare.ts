// The compare selection in the Models view: 2 to 4 versions.

export const MIN_COMPARE = 2;
export const MAX_COMPARE = 4;

/**
 * Toggles `version` in the selection. Selecting a fifth is refused (the
 * selection is returned unchanged); the order of selection is kept, since
 * deltas are against the first version.
 */
export function toggleSelection(selection: readonly number[], version: number): number[] {
  if (selection.includes(version)) return selection.filter((v) => v !== version);
  if (selection.length >= MAX_COMPARE) return [...selection];
  return [...selection, version];
}

export function canCompare(selection: readonly number[]): boolean {
  return selection.length >= MIN_COMPARE && selection.length <= MAX_COMPARE;
}

/** Whether the checkbox of `version` may be ticked now. */
export function canSelect(selection: readonly number[], version: number): boolean {
  return selection.includes(version) || selection.length < MAX_COMPARE;
}

/** What the compare button says about the selection. */
export function selectionHint(selection: readonly number[]): string {
  const n = selection.length;
  if (n < MIN_COMPARE) return `Pick ${MIN_COMPARE}–${MAX_COMPARE} versions to compare.`;
  if (n >= MAX_COMPARE) return `${n} selected (at most ${MAX_COMPARE}).`;
  return `${n} selected.`;
}
