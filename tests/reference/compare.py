"""Compare a Tablero features/clean Parquet with the pandas reference CSV.

Usage: python3 tests/reference/compare.py TABLERO.parquet REFERENCE.csv [KEY]

Text and integer columns must be equal; floats may differ by 1e-9 relative
(pandas and Tablero both use compensated sums, but the last bit of a mean can
differ). Prints the differing columns and exits 1 if any.
"""
import sys

import numpy as np
import pandas as pd

ours = pd.read_parquet(sys.argv[1])
ref = pd.read_csv(sys.argv[2], dtype=str, keep_default_na=False)
key = sys.argv[3] if len(sys.argv) > 3 else None
bad = 0
if list(ours.columns) != list(ref.columns):
    print("columns differ:\n ours", list(ours.columns), "\n ref ", list(ref.columns))
    bad += 1
if len(ours) != len(ref):
    print(f"rows differ: ours {len(ours)} ref {len(ref)}")
    sys.exit(1)
for col in ref.columns:
    if col not in ours.columns:
        continue
    a = ours[col]
    b = ref[col]
    if pd.api.types.is_float_dtype(a) or pd.api.types.is_integer_dtype(a):
        bn = pd.to_numeric(b.replace("", np.nan))
        an = a.astype(float).to_numpy()
        close = np.isclose(an, bn.to_numpy(dtype=float), rtol=1e-9, atol=1e-12, equal_nan=True)
        if not close.all():
            i = int(np.argmin(close))
            print(f"{col}: {int((~close).sum())} differ, e.g. row {i}: ours {an[i]!r} ref {bn.iloc[i]!r}")
            bad += 1
    elif pd.api.types.is_datetime64_any_dtype(a):
        astr = a.dt.strftime("%Y-%m-%d %H:%M:%S")
        diff = astr.to_numpy() != b.str.slice(0, 19).to_numpy()
        if diff.any():
            print(f"{col}: {int(diff.sum())} differ")
            bad += 1
    else:
        astr = a.fillna("").astype(str).to_numpy()
        diff = astr != b.to_numpy()
        if diff.any():
            i = int(np.argmax(diff))
            print(f"{col}: {int(diff.sum())} differ, e.g. row {i}: ours {astr[i]!r} ref {b.iloc[i]!r}")
            bad += 1
print("OK" if bad == 0 else f"{bad} column(s) differ", f"({len(ours)} rows)")
sys.exit(1 if bad else 0)
