import { describe, expect, it } from "vitest";

import type { IngestSpec } from "./bindings";
import {
  duplicateChoices,
  followHeader,
  IGNORE,
  mappingSummary,
  initialRows,
  sameHeader,
  toMapString,
  unsendable,
  type MappingRow,
} from "./mapping";

const spec: IngestSpec = {
  encoding: "utf-8",
  delimiter: ";",
  date_format: "%d.%m.%Y",
  columns: ["Kunde", "Datum", "Menge", "Preis", "Notiz"],
  mapping: [
    { column: "Preis", canonical: "unit_price", how: "alias" },
    { column: "Kunde", canonical: "customer_id", how: "given" },
  ],
};

describe("mapping table", () => {
  it("starts from what Rust detected, in file order, the rest ignored", () => {
    expect(initialRows(spec.columns, spec.mapping)).toEqual([
      { column: "Kunde", choice: "customer_id" },
      { column: "Datum", choice: IGNORE },
      { column: "Menge", choice: IGNORE },
      { column: "Preis", choice: "unit_price" },
      { column: "Notiz", choice: IGNORE },
    ]);
  });

  it("turns the edited rows into the map argument", () => {
    const rows: MappingRow[] = initialRows(spec.columns, spec.mapping);
    rows[1] = { column: "Datum", choice: "invoice_date" };
    rows[2] = { column: "Menge", choice: "quantity" };
    expect(toMapString(rows)).toBe(
      "Kunde=customer_id,Datum=invoice_date,Menge=quantity,Preis=unit_price",
    );
  });

  it("lists the header alone when Rust could not map it", () => {
    expect(initialRows(["Name", "Amount"])).toEqual([
      { column: "Name", choice: IGNORE },
      { column: "Amount", choice: IGNORE },
    ]);
  });

  it("keeps headers with spaces as they are", () => {
    expect(toMapString([{ column: "Customer ID", choice: "customer_id" }])).toBe(
      "Customer ID=customer_id",
    );
  });

  it("is empty when everything is ignored", () => {
    expect(toMapString([{ column: "A", choice: IGNORE }])).toBe("");
  });

  it("leaves out headers the map syntax cannot carry", () => {
    const rows: MappingRow[] = [
      { column: "Price, EUR", choice: "unit_price" },
      { column: "a=b", choice: "quantity" },
      { column: " padded", choice: "country" },
      { column: "Customer", choice: "customer_id" },
    ];
    expect(unsendable(rows)).toEqual(["Price, EUR", "a=b", " padded"]);
    expect(toMapString(rows)).toBe("Customer=customer_id");
  });

  it("names canonical columns chosen twice", () => {
    expect(
      duplicateChoices([
        { column: "A", choice: "amount" },
        { column: "B", choice: "amount" },
        { column: "C", choice: IGNORE },
        { column: "D", choice: IGNORE },
      ]),
    ).toEqual(["amount"]);
  });

  it("summarises a stored mapping from object metadata", () => {
    expect(mappingSummary(JSON.stringify(spec))).toBe("Preis→unit_price, Kunde→customer_id");
    expect(mappingSummary(undefined)).toBe("");
    expect(mappingSummary("{not json")).toBe("");
  });

  it("follows a header read again, keeping the choices of unchanged columns", () => {
    const rows: MappingRow[] = [
      { column: "Kunde", choice: "customer_id" },
      { column: "MengeÃ©", choice: "quantity" },
      { column: "Preis", choice: IGNORE },
    ];
    const columns = ["Kunde", "Mengeé", "Preis"];
    expect(sameHeader(rows, columns)).toBe(false);
    expect(sameHeader(rows, ["Kunde", "MengeÃ©", "Preis"])).toBe(true);
    const next = followHeader(rows, columns, [
      { column: "Kunde", canonical: "invoice_id", how: "alias" },
      { column: "Mengeé", canonical: "quantity", how: "alias" },
      { column: "Preis", canonical: "unit_price", how: "alias" },
    ]);
    expect(next).toEqual([
      { column: "Kunde", choice: "customer_id" },
      { column: "Mengeé", choice: "quantity" },
      { column: "Preis", choice: IGNORE },
    ]);
    expect(sameHeader(next, columns)).toBe(true);
  });
});
