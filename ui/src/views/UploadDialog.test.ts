import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { describe, expect, it, vi } from "vitest";

import type { Encoding } from "../lib/bindings";
import { fileInspection, INGEST as ingest } from "../test/fixtures";
import { callsOf, mockIpc } from "../test/ipc";
import UploadDialog from "./UploadDialog.svelte";

const inspectResult = (problems: string[]) => fileInspection({ problems });

function props() {
  return { path: "/data/shop.csv", onclose: vi.fn(), ondone: vi.fn(), onclean: vi.fn() };
}

const uploaded = () => ({
  object: {
    bucket: "raw",
    key: "shop.csv",
    size: 100,
    modified: "t",
    storage_class: "STANDARD",
    metadata: {},
  },
  ingest,
  rows: 3,
  unparseable: 0,
  unparseable_examples: [],
  sha256: "x",
});

describe("UploadDialog", () => {
  it("lets the user map columns and uploads with the edited map", async () => {
    mockIpc({
      data_inspect: (a) => inspectResult(a.map ? [] : ["missing required columns: customer_id"]),
      data_upload: () => ({
        object: {
          bucket: "raw",
          key: "shop.csv",
          size: 100,
          modified: "t",
          storage_class: "STANDARD",
          metadata: {},
        },
        ingest,
        rows: 3,
        unparseable: 0,
        unparseable_examples: [],
        sha256: "x",
      }),
    });
    const p = props();
    render(UploadDialog, p);
    const rows = await screen.findAllByTestId("mapping-row");
    expect(screen.getAllByTestId("mapping-column").map((c) => c.textContent)).toEqual([
      "Client",
      "When",
      "Qty",
      "UnitPrice",
    ]);
    expect(screen.getByTestId("upload-problems").textContent).toContain("customer_id");
    expect((screen.getByTestId("upload-key") as HTMLInputElement).value).toBe("shop.csv");

    const selects = screen.getAllByTestId("mapping-select") as HTMLSelectElement[];
    expect(rows).toHaveLength(4);
    expect(selects.map((s) => s.value)).toEqual(["ignore", "ignore", "ignore", "unit_price"]);
    await fireEvent.change(selects[0]!, { target: { value: "customer_id" } });
    await fireEvent.change(selects[1]!, { target: { value: "invoice_date" } });
    await fireEvent.change(selects[2]!, { target: { value: "quantity" } });

    // Rust re-checks the edited mapping.
    await waitFor(() => expect(screen.queryByTestId("upload-problems")).toBeNull(), {
      timeout: 2000,
    });
    const inspects = callsOf("data_inspect");
    expect(inspects[inspects.length - 1]).toEqual({
      path: "/data/shop.csv",
      map: "Client=customer_id,When=invoice_date,Qty=quantity,UnitPrice=unit_price",
    });

    await fireEvent.input(screen.getByTestId("upload-key"), { target: { value: "2024/shop.csv" } });
    await fireEvent.click(screen.getByTestId("upload-confirm"));
    expect((await screen.findByTestId("upload-done")).textContent).toContain("raw/shop.csv");
    expect(callsOf("data_upload")[0]).toEqual({
      path: "/data/shop.csv",
      key: "2024/shop.csv",
      map: "Client=customer_id,When=invoice_date,Qty=quantity,UnitPrice=unit_price",
      replace: false,
    });
    expect(p.ondone).toHaveBeenCalled();
  });

  it("shows the refusal in the dialog", async () => {
    const refusal = "shop.csv line 7 has 3 fields; the header has 4";
    mockIpc({
      data_inspect: () => inspectResult([]),
      data_upload: () => {
        throw { kind: "invalid_input", message: refusal };
      },
    });
    render(UploadDialog, props());
    await screen.findAllByTestId("mapping-row");
    await fireEvent.click(screen.getByTestId("upload-confirm"));
    const err = await screen.findByTestId("upload-error");
    expect(err.textContent).toBe(refusal);
    expect(screen.getByTestId("upload-dialog").contains(err)).toBe(true);
    expect(screen.queryByTestId("upload-done")).toBeNull();
  });

  it("lets the user map a header Rust could not read as transactions", async () => {
    mockIpc({
      data_inspect: (a) =>
        a.map
          ? inspectResult([])
          : fileInspection({
              size: 40,
              ingest: null,
              rows_sampled: 0,
              problems: ["missing required columns: customer_id, invoice_date, quantity"],
            }),
    });
    render(UploadDialog, props());
    const selects = (await screen.findAllByTestId("mapping-select")) as HTMLSelectElement[];
    expect(selects.map((s) => s.value)).toEqual(["ignore", "ignore", "ignore", "ignore"]);
    expect(screen.getByTestId("upload-problems").textContent).toContain("customer_id");
    await fireEvent.change(selects[0]!, { target: { value: "customer_id" } });
    await waitFor(() => expect(screen.queryByTestId("upload-problems")).toBeNull(), {
      timeout: 2000,
    });
    expect((screen.getByTestId("upload-confirm") as HTMLButtonElement).disabled).toBe(false);
  });

  it("shows an inspect refusal and keeps Upload disabled", async () => {
    mockIpc({
      data_inspect: () => {
        throw { kind: "invalid_input", message: "shop.csv is empty" };
      },
    });
    render(UploadDialog, props());
    expect((await screen.findByTestId("upload-error")).textContent).toBe("shop.csv is empty");
    expect((screen.getByTestId("upload-confirm") as HTMLButtonElement).disabled).toBe(true);
  });

  it("cancels a running upload and says nothing was stored", async () => {
    let reject: (e: unknown) => void = () => {};
    mockIpc({
      data_inspect: () => inspectResult([]),
      data_upload: () =>
        new Promise((_, r) => {
          reject = r;
        }),
      data_upload_cancel: (a) => {
        reject({ kind: "cancelled", message: "upload cancelled; nothing was stored" });
        return { cancelling: a.path };
      },
    });
    render(UploadDialog, props());
    await screen.findAllByTestId("mapping-row");
    await fireEvent.click(screen.getByTestId("upload-confirm"));
    await fireEvent.click(await screen.findByTestId("upload-cancel"));
    expect(callsOf("data_upload_cancel")[0]).toEqual({ path: "/data/shop.csv" });
    expect((await screen.findByTestId("upload-error")).textContent).toContain("nothing was stored");
    expect(screen.queryByTestId("upload-cancel")).toBeNull();
    expect(screen.queryByTestId("upload-done")).toBeNull();
  });
  it("re-inspects and uploads with the declared encoding", async () => {
    mockIpc({
      data_inspect: (a) =>
        fileInspection({
          ingest: { ...ingest, encoding: (a.encoding as Encoding | undefined) ?? "utf-8" },
        }),
      data_upload: uploaded,
    });
    render(UploadDialog, props());
    await screen.findAllByTestId("mapping-row");
    const select = screen.getByLabelText("Encoding") as HTMLSelectElement;
    expect(select.dataset.testid).toBe("upload-encoding");
    expect(select.value).toBe("");
    expect([...select.options].map((o) => [o.value, o.textContent])).toEqual([
      ["", "Detect"],
      ["utf-8", "UTF-8"],
      ["windows-1252", "Windows-1252 (Excel on Windows)"],
      ["latin-1", "Latin-1 (ISO-8859-1)"],
    ]);
    expect(screen.getByText("utf-8")).toBeTruthy();
    expect(callsOf("data_inspect")).toHaveLength(1);

    await fireEvent.change(select, { target: { value: "windows-1252" } });
    // The encoding used is the declared one, as Rust reports it.
    expect(await screen.findByText("windows-1252")).toBeTruthy();
    const inspects = callsOf("data_inspect").slice(1);
    expect(inspects.length).toBeGreaterThan(0);
    expect(inspects.every((a) => a.encoding === "windows-1252")).toBe(true);
    expect(inspects[inspects.length - 1]).toEqual({
      path: "/data/shop.csv",
      map: "UnitPrice=unit_price",
      encoding: "windows-1252",
    });

    await fireEvent.click(screen.getByTestId("upload-confirm"));
    await screen.findByTestId("upload-done");
    expect(callsOf("data_upload")[0]).toMatchObject({ encoding: "windows-1252" });
  });

  it("sends no encoding when it is left to detection", async () => {
    mockIpc({ data_inspect: () => inspectResult([]), data_upload: uploaded });
    render(UploadDialog, props());
    const selects = (await screen.findAllByTestId("mapping-select")) as HTMLSelectElement[];
    await fireEvent.change(selects[0]!, { target: { value: "customer_id" } });
    await waitFor(() => expect(callsOf("data_inspect").length).toBeGreaterThan(1), {
      timeout: 2000,
    });
    await fireEvent.click(screen.getByTestId("upload-confirm"));
    await screen.findByTestId("upload-done");
    const calls = [...callsOf("data_inspect"), ...callsOf("data_upload")];
    expect(calls.every((a) => a.encoding === undefined)).toBe(true);
  });

  it("declaring Detect again after an encoding sends none", async () => {
    mockIpc({ data_inspect: () => inspectResult([]), data_upload: uploaded });
    render(UploadDialog, props());
    await screen.findAllByTestId("mapping-row");
    const select = screen.getByTestId("upload-encoding") as HTMLSelectElement;
    await fireEvent.change(select, { target: { value: "latin-1" } });
    await waitFor(() => expect(callsOf("data_inspect").slice(-1)[0]?.encoding).toBe("latin-1"));
    const before = callsOf("data_inspect").length;
    await fireEvent.change(select, { target: { value: "" } });
    await waitFor(() => expect(callsOf("data_inspect").length).toBeGreaterThan(before));
    await waitFor(() =>
      expect((screen.getByTestId("upload-confirm") as HTMLButtonElement).disabled).toBe(false),
    );
    await fireEvent.click(screen.getByTestId("upload-confirm"));
    await screen.findByTestId("upload-done");
    expect(
      callsOf("data_inspect")
        .slice(before)
        .every((a) => a.encoding === undefined),
    ).toBe(true);
    expect(callsOf("data_upload")[0]!.encoding).toBeUndefined();
  });

  it("follows the header as the declared encoding reads it, keeping the user's choices", async () => {
    // A header whose names read differently in the declared encoding.
    const header = (enc: unknown) => [
      "Client",
      "When",
      enc === "utf-8" ? "Quantité" : "QuantitÃ©",
      "UnitPrice",
    ];
    mockIpc({
      data_inspect: (a) => {
        const columns = header(a.encoding);
        const map = String(a.map ?? "");
        const names = map ? map.split(",").map((e) => e.split("=")[0]!) : [];
        const missing = names.find((n) => !columns.includes(n));
        if (missing)
          return fileInspection({
            ingest: null,
            columns: [],
            problems: [`the file has no column "${missing}"`],
          });
        return fileInspection({ ingest: { ...ingest, columns }, columns });
      },
      data_upload: uploaded,
    });
    render(UploadDialog, props());
    const selects = (await screen.findAllByTestId("mapping-select")) as HTMLSelectElement[];
    await fireEvent.change(selects[0]!, { target: { value: "customer_id" } });
    await fireEvent.change(screen.getByTestId("upload-encoding"), {
      target: { value: "utf-8" },
    });
    await waitFor(() =>
      expect(screen.getAllByTestId("mapping-column").map((c) => c.textContent)).toEqual([
        "Client",
        "When",
        "Quantité",
        "UnitPrice",
      ]),
    );
    await waitFor(() => expect(screen.queryByTestId("upload-no-problems")).not.toBeNull());
    expect(
      (screen.getAllByTestId("mapping-select") as HTMLSelectElement[]).map((s) => s.value),
    ).toEqual(["customer_id", "ignore", "ignore", "unit_price"]);
    expect(callsOf("data_inspect").slice(-1)[0]).toEqual({
      path: "/data/shop.csv",
      map: "Client=customer_id,UnitPrice=unit_price",
      encoding: "utf-8",
    });
  });
});
