// The upload dialog's mapping table: one row per header of the file, each
// mapped to a canonical column or ignored, sent to Rust as
// `map = "Their Header=canonical,…"`.

import type { Canonical, IngestSpec, MappedColumn } from "./bindings";

/** Canonical columns, in the order the select lists them. */
export const CANONICAL: readonly Canonical[] = [
  "customer_id",
  "invoice_date",
  "quantity",
  "unit_price",
  "amount",
  "invoice_id",
  "product_id",
  "description",
  "country",
];

export const IGNORE = "ignore";

export type MappingChoice = Canonical | typeof IGNORE;

export type MappingRow = {
  /** The header as found in the file. */
  column: string;
  /** What the user chose. */
  choice: MappingChoice;
};

/**
 * Initial rows from `data_inspect`: each column of the header with what Rust
 * detected, else ignored (no mapping at all when the head did not read as a
 * transactions CSV).
 */
export function initialRows(
  columns: readonly string[],
  mapping: readonly MappedColumn[] = [],
): MappingRow[] {
  return columns.map((column) => {
    const found = mapping.find((m) => m.column === column);
    return { column, choice: found ? found.canonical : IGNORE };
  });
}

/**
 * Headers that the `map` syntax cannot carry (a `,` or `=` in the name, or
 * spaces around it, which Rust trims): those are left to Rust's recognition.
 */
export function unsendable(rows: readonly MappingRow[]): string[] {
  return rows
    .filter((r) => r.choice !== IGNORE)
    .filter((r) => /[,=]/.test(r.column) || r.column.trim() !== r.column || r.column === "")
    .map((r) => r.column);
}

/** The `map` argument: every mapped column, in file order; ignored columns are left out. */
export function toMapString(rows: readonly MappingRow[]): string {
  const bad = new Set(unsendable(rows));
  return rows
    .filter((r) => r.choice !== IGNORE && !bad.has(r.column))
    .map((r) => `${r.column}=${r.choice}`)
    .join(",");
}

/** Canonical names chosen for more than one column (shown next to the rows). */
export function duplicateChoices(rows: readonly MappingRow[]): Canonical[] {
  const seen = new Map<Canonical, number>();
  for (const r of rows) {
    if (r.choice !== IGNORE) seen.set(r.choice, (seen.get(r.choice) ?? 0) + 1);
  }
  return [...seen].filter(([, n]) => n > 1).map(([c]) => c);
}

/** A short "Header → canonical" summary of a stored mapping (object metadata `ingest`). */
export function mappingSummary(ingestJson: string | undefined): string {
  if (!ingestJson) return "";
  try {
    const spec = JSON.parse(ingestJson) as Partial<IngestSpec>;
    if (!Array.isArray(spec.mapping)) return "";
    return spec.mapping.map((m) => `${m.column}→${m.canonical}`).join(", ");
  } catch {
    return "";
  }
}

/**
 * Rows for a header read again (in another encoding, its names may read
 * differently): Rust's columns and detection, keeping the user's choice for
 * every column whose name is unchanged.
 */
export function followHeader(
  rows: readonly MappingRow[],
  columns: readonly string[],
  mapping: readonly MappedColumn[] = [],
): MappingRow[] {
  const chosen = new Map(rows.map((r) => [r.column, r.choice]));
  return initialRows(columns, mapping).map((r) => ({
    column: r.column,
    choice: chosen.get(r.column) ?? r.choice,
  }));
}

/** Whether `rows` are exactly the columns of `columns`, in order. */
export function sameHeader(rows: readonly MappingRow[], columns: readonly string[]): boolean {
  return rows.length === columns.length && rows.every((r, i) => r.column === columns[i]);
}
