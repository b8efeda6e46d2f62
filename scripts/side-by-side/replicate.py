#!/usr/bin/env python3
"""Writes K copies of a transactions CSV as one file, deterministically.

    replicate.py INPUT.csv[.gz] K OUTPUT.csv

Copy 0 is the input's rows as they are. Copy k (k >= 1) rewrites two
columns of every row and keeps every other byte:

* CustomerID: the integer part becomes `id + k * 10**L` (L = the widest id's
  digit count), so `17850.0` in copy 3 of a 5-digit file is `317850.0`.
  A blank id stays blank; a non-numeric id gets `-k` appended.
* InvoiceNo: its digits become `n + k * 10**L` the same way, and a letter
  prefix (`C` for a cancellation, `A` for an adjustment) is kept.

So copies share no customer and no invoice, a row duplicated within the
input is duplicated within each copy and nowhere else, and every clean
rule's count, the customer count and the positives are exactly K times the
input's. Dates, products, quantities and prices are unchanged.

The input's header names the two columns (`InvoiceNo`/`CustomerID`, or the
canonical `invoice_id`/`customer_id`). Python's standard library only.
"""

import csv
import gzip
import io
import re
import sys

INVOICE_NAMES = ("InvoiceNo", "invoice_id", "Invoice")
CUSTOMER_NAMES = ("CustomerID", "customer_id", "Customer ID")
SENTINEL_I = "\x00I\x00"
SENTINEL_C = "\x00C\x00"
NUMBERED = re.compile(r"^([^0-9]*)([0-9]+)(.*)$")


def open_text(path):
    raw = gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb")
    return io.TextIOWrapper(raw, encoding="utf-8", newline="")


def column(header, names):
    for n in names:
        if n in header:
            return header.index(n)
    sys.exit(f"replicate.py: the header {header} has none of the columns {names}")


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__.strip().splitlines()[2])
    src, k, dst = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    if k < 1:
        sys.exit("replicate.py: K must be at least 1")
    with open_text(src) as f:
        sample = f.read(1 << 16)
        f.seek(0)
        newline = "\r\n" if "\r\n" in sample else "\n"
        reader = csv.reader(f)
        header = next(reader)
        rows = list(reader)
    inv_i = column(header, INVOICE_NAMES)
    cust_i = column(header, CUSTOMER_NAMES)

    # Each row as a template: the line written with sentinels in place of
    # the two fields, split around them. Quoting follows csv.QUOTE_MINIMAL,
    # which reads back to the same values.
    templates = []
    invoices = []
    customers = []
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator=newline)
    for row in rows:
        invoices.append(NUMBERED.match(row[inv_i]))
        customers.append(row[cust_i])
        row = list(row)
        row[inv_i] = SENTINEL_I
        row[cust_i] = SENTINEL_C
        buf.seek(0)
        buf.truncate()
        writer.writerow(row)
        line = buf.getvalue()
        a, rest = line.split(SENTINEL_I, 1)
        if SENTINEL_C in a:  # the customer column comes first
            c1, c2 = a.split(SENTINEL_C, 1)
            templates.append((c1, c2, rest, True))
        else:
            b, c = rest.split(SENTINEL_C, 1)
            templates.append((a, b, c, False))

    inv_width = max((len(m.group(2)) for m in invoices if m), default=1)
    cust_width = max(
        (len(c.split(".", 1)[0]) for c in customers if c.split(".", 1)[0].isdigit()),
        default=1,
    )

    def invoice(m, raw, k):
        if k == 0:
            return raw
        if m is None:
            return f"{raw}-{k}"
        return f"{m.group(1)}{int(m.group(2)) + k * 10**inv_width}{m.group(3)}"

    def customer(c, k):
        if k == 0 or c.strip() == "":
            return c
        head, dot, tail = c.partition(".")
        if head.isdigit():
            return f"{int(head) + k * 10**cust_width}{dot}{tail}"
        return f"{c}-{k}"

    raw_invoices = [r[inv_i] for r in rows]
    with open(dst, "w", encoding="utf-8", newline="") as out:
        csv.writer(out, lineterminator=newline).writerow(header)
        for copy in range(k):
            inv = [invoice(m, raw, copy) for m, raw in zip(invoices, raw_invoices)]
            cus = [customer(c, copy) for c in customers]
            out.write(
                "".join(
                    (a + i + b + c + rest) if not cust_first else (a + c + b + i + rest)
                    for (a, b, rest, cust_first), i, c in zip(templates, inv, cus)
                )
            )
    print(f"{dst}: {k} copies of {len(rows)} rows ({k * len(rows)} rows)", file=sys.stderr)


if __name__ == "__main__":
    main()
