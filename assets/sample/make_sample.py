#!/usr/bin/env python3
"""Build the small sample of the UCI "Online Retail" dataset shipped with Tablero.

Usage:
    python3 make_sample.py /path/to/online_retail.csv.gz [output.csv]

The output defaults to online_retail_sample.csv next to this script.
Standard library only; fixed seed, so the output is deterministic.

Every line of the sample is an original line of the source, copied byte for
byte (including its CRLF ending), in the original order. Selection:

* ~400 customers drawn at random, stratified by country (the country of a
  customer's first line): in every non-UK country a quarter of its customers
  (at least one), the rest from the United Kingdom. Customers with more than
  MAX_LINES_PER_CUSTOMER lines (a few dozen wholesalers) are left out of the
  draw to keep the file small. All lines of the chosen customers are kept,
  including their cancellations (invoices starting with "C") and duplicates.
* a random 3% of the lines without CustomerID.
* if the chosen customers bring fewer than MIN_BAD_NON_CANCEL non-cancellation
  lines with Quantity <= 0 or UnitPrice <= 0, random such source lines that
  carry a CustomerID are added until there are that many.
* if the first or last day of the source is missing, the first source line of
  that day with a CustomerID is added.

The script then checks the properties the demo and tests rely on.
"""
import csv
import gzip
import math
import os
import random
import sys

SEED = 20240611
N_CUSTOMERS = 400
NON_UK_FRACTION = 0.25
MAX_LINES_PER_CUSTOMER = 300
MISSING_ID_FRACTION = 0.03
MIN_BAD_NON_CANCEL = 5
MIN_DUPLICATES = 20
REQUIRED_COUNTRIES = ["Germany", "France", "EIRE", "Spain", "Australia"]
CUTOFF = "2011-10-07"

# Column indices
INVOICE, STOCK, DESC, QTY, DATE, PRICE, CUST, COUNTRY = range(8)


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    src = sys.argv[1]
    out = sys.argv[2] if len(sys.argv) == 3 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "online_retail_sample.csv")

    with gzip.open(src, "rb") as f:
        raw = f.read()
    # One record per line (no field of the source contains a newline).
    lines = raw.split(b"\r\n")
    assert lines[-1] == b"", "source must end with CRLF"
    lines = lines[:-1]
    header, body = lines[0], lines[1:]
    rows = [next(csv.reader([l.decode("utf-8")])) for l in body]
    assert all(len(r) == 8 for r in rows)

    rng = random.Random(SEED)

    # --- customers, stratified by country -------------------------------
    cust_lines = {}
    for i, r in enumerate(rows):
        if r[CUST]:
            cust_lines.setdefault(r[CUST], []).append(i)
    by_country = {}
    for c, ix in cust_lines.items():
        if len(ix) <= MAX_LINES_PER_CUSTOMER:
            by_country.setdefault(rows[ix[0]][COUNTRY], []).append(c)
    key = lambda c: float(c)
    chosen = []
    for country in sorted(by_country):
        if country == "United Kingdom":
            continue
        cands = sorted(by_country[country], key=key)
        k = max(1, math.ceil(len(cands) * NON_UK_FRACTION))
        chosen += rng.sample(cands, k)
    uk = sorted(by_country["United Kingdom"], key=key)
    chosen += rng.sample(uk, N_CUSTOMERS - len(chosen))
    chosen = set(chosen)

    selected = set()
    for c in chosen:
        selected.update(cust_lines[c])

    # --- a random share of the lines without CustomerID ------------------
    missing = [i for i, r in enumerate(rows) if not r[CUST]]
    selected.update(rng.sample(missing, round(len(missing) * MISSING_ID_FRACTION)))

    # --- non-cancellation lines with Quantity <= 0 or UnitPrice <= 0 ------
    def bad_non_cancel(i):
        r = rows[i]
        return (r[CUST] and not r[INVOICE].startswith("C")
                and (float(r[QTY]) <= 0 or float(r[PRICE]) <= 0))

    have = sum(1 for i in selected if bad_non_cancel(i))
    if have < MIN_BAD_NON_CANCEL:
        pool = [i for i in range(len(rows)) if bad_non_cancel(i) and i not in selected]
        selected.update(rng.sample(pool, MIN_BAD_NON_CANCEL - have))

    # --- the whole date range ---------------------------------------------
    days = sorted({r[DATE][:10] for r in rows})
    for day in (days[0], days[-1]):
        if not any(rows[i][DATE].startswith(day) for i in selected):
            selected.add(next(i for i, r in enumerate(rows)
                              if r[DATE].startswith(day) and r[CUST]))

    order = sorted(selected)
    with open(out, "wb") as f:
        f.write(header + b"\r\n")
        for i in order:
            f.write(body[i] + b"\r\n")

    # --- checks -------------------------------------------------------------
    sel_rows = [rows[i] for i in order]
    sel_days = sorted(r[DATE][:10] for r in sel_rows)
    assert (sel_days[0], sel_days[-1]) == (days[0], days[-1])
    seen, dups = set(), 0
    for i in order:
        dups += body[i] in seen
        seen.add(body[i])
    assert dups >= MIN_DUPLICATES, dups
    countries = {r[COUNTRY] for r in sel_rows if r[CUST]}
    assert all(c in countries for c in REQUIRED_COUNTRIES), countries
    assert any(r[INVOICE].startswith("C") and r[CUST] for r in sel_rows)
    assert sum(1 for i in order if bad_non_cancel(i)) >= MIN_BAD_NON_CANCEL
    span = {}
    for r in sel_rows:
        if r[CUST]:
            b, a = span.get(r[CUST], (False, False))
            span[r[CUST]] = (b or r[DATE] < CUTOFF, a or r[DATE] >= CUTOFF)
    assert any(b and a for b, a in span.values()), "no customer before and after"
    assert any(b and not a for b, a in span.values()), "no customer only before"
    assert os.path.getsize(out) < 5 * 1024 * 1024

    print(f"wrote {out}: {len(order)} lines, {len(span)} customers, "
          f"{sel_days[0]} .. {sel_days[-1]}, {len(countries)} countries, "
          f"{dups} duplicate lines, {os.path.getsize(out)} bytes")


if __name__ == "__main__":
    main()
