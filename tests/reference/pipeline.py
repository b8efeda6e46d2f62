#!/usr/bin/env python3
"""Independent pandas reference implementation of Tablero's data pipeline.

Used by developers to cross-check the Rust implementation; it is not part of
the product and is not run by CI.

    pip install pandas pyarrow
    python3 tests/reference/pipeline.py INPUT.csv[.gz] OUTDIR

INPUT is an Online Retail CSV (UCI "Online Retail" data set, Chen, Sain & Guo,
2012, CC BY 4.0) with columns InvoiceNo, StockCode, Description, Quantity,
InvoiceDate, UnitPrice, CustomerID, Country.  OUTDIR receives:

  clean_counts.json      rows dropped per cleaning rule, rows/customers kept
  parity_clean.csv       parity preset clean output (15 columns)
  parity_features.csv    parity preset customer features (27 columns)
  standard_features.csv  standard preset customer features (27 columns)
  summary.json           per preset: cutoff, customers, positives, negatives

Written the way a pandas user would (it mimics an existing pandas/PyCaret
pipeline).  Notes on pandas-version behaviour that matters for exact parity:

* InvoiceDate is held as datetime64[ns].  pandas >= 3 parses strings to
  datetime64[us] by default; we cast to ns so that quantile cutoffs are the
  ones pandas 2.x (which the original pipeline used) produces.
* Series.quantile on datetime64 views the values as int64, runs
  np.quantile(method='linear') which returns float64, and casts the float64
  back with astype -> truncation toward zero, after float64 rounding.
* Text columns are read with dtype=str as a safeguard against InvoiceNo or
  StockCode coming out as a mix of int and str; on the UCI file a default
  read already gives all-str columns (pandas 2.1 and 3.1), so results agree.
* np.log1p differs by 1 ulp on some inputs between numpy 1.26 and numpy 2.x
  (2.x agrees with the correctly rounded value / glibc log1p); compare
  UnitPrice_Log and TotalValue_Log with a 1-ulp tolerance.
"""

from __future__ import annotations

import json
import os
import sys

import numpy as np
import pandas as pd

FLOAT_FORMAT = "%.17g"

EUROPE = {
    "United Kingdom", "Germany", "France", "Spain", "Netherlands", "Belgium",
    "Switzerland", "Austria", "Italy", "Portugal", "Norway", "Denmark",
    "Finland", "Sweden", "Poland", "Cyprus",
}
ASIA_PACIFIC = {"Australia", "Japan", "Singapore", "Hong Kong"}
AMERICAS = {"USA", "Canada", "Brazil"}

RAW_COLUMNS = [
    "InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate",
    "UnitPrice", "CustomerID", "Country",
]

PARITY_CLEAN_COLUMNS = RAW_COLUMNS + [
    "Country_Tier", "Region", "UnitPrice_Log", "UnitPrice_Winsorized",
    "TotalValue", "TotalValue_Log", "Price_Segment",
]

FEATURE_COLUMNS = [
    "CustomerID", "Recency", "Frequency", "Monetary", "AvgOrderValue",
    "DaysActive", "TotalQuantity", "AvgQuantity", "StdQuantity",
    "AvgUnitPrice", "StdUnitPrice", "MostFrequentCountry", "ProductVariety",
    "R_Score", "F_Score", "M_Score", "RFM_Score", "Customer_Segment",
    "WillPurchase_90Days", "UniquePurchaseDays", "CustomerAge_Days",
    "ActivityPeriod_Days", "UniqueYears", "UniqueMonths",
    "PreferredDayOfWeek", "UniqueQuarters", "AvgDaysBetweenPurchases",
]

TEMPORAL_COLUMNS = [
    "UniquePurchaseDays", "CustomerAge_Days", "ActivityPeriod_Days",
    "UniqueYears", "UniqueMonths", "PreferredDayOfWeek", "UniqueQuarters",
    "AvgDaysBetweenPurchases",
]


# --------------------------------------------------------------------------
# Load and clean
# --------------------------------------------------------------------------

def load(path: str) -> pd.DataFrame:
    df = pd.read_csv(
        path,
        dtype={"InvoiceNo": str, "StockCode": str, "Description": str,
               "Country": str},
    )
    # ISO timestamps; force nanosecond resolution (pandas 3 would give [us]).
    df["InvoiceDate"] = pd.to_datetime(
        df["InvoiceDate"], format="%Y-%m-%d %H:%M:%S"
    ).astype("datetime64[ns]")
    return df


def clean_standard(raw: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """Standard rules in order (a) duplicates, (b) missing customer,
    (c) cancellations, (d) non-positive quantity or price."""
    counts: dict = {"rows_read": int(len(raw))}
    df = raw

    dup = df.duplicated(keep="first")
    counts["dropped_duplicates"] = int(dup.sum())
    df = df[~dup]

    missing = df["CustomerID"].isna()
    counts["dropped_missing_customer"] = int(missing.sum())
    df = df[~missing]

    cancel = df["InvoiceNo"].astype(str).str.startswith("C")
    counts["dropped_cancellations"] = int(cancel.sum())
    df = df[~cancel]

    nonpos = (df["Quantity"] <= 0) | (df["UnitPrice"] <= 0)
    counts["dropped_non_positive"] = int(nonpos.sum())
    df = df[~nonpos].copy()

    df["TotalValue"] = df["Quantity"] * df["UnitPrice"]
    counts["rows_kept"] = int(len(df))
    counts["customers_kept"] = int(df["CustomerID"].nunique())
    return df, counts


def region_of(country: str) -> str:
    if country in EUROPE:
        return "Europe"
    if country in ASIA_PACIFIC:
        return "Asia-Pacific"
    if country in AMERICAS:
        return "Americas"
    return "Other"


def clean_parity(std: pd.DataFrame) -> pd.DataFrame:
    df = std.copy()

    # 1. Geographic filter
    country_counts = df["Country"].value_counts()
    tiers = pd.Series(
        np.where(country_counts >= 1000, 1,
                 np.where(country_counts >= 100, 2, 3)),
        index=country_counts.index,
    )
    df["Country_Tier"] = df["Country"].map(tiers).astype("int64")
    df["Region"] = df["Country"].map(region_of)
    keep = df["Country_Tier"].isin([1, 2]) & df["Region"].isin(
        ["Europe", "Asia-Pacific", "Americas"])
    df = df[keep].copy()

    # 2. Derived columns
    df["UnitPrice_Log"] = np.log1p(df["UnitPrice"])
    p01 = df["UnitPrice"].quantile(0.01)
    p99 = df["UnitPrice"].quantile(0.99)
    df["UnitPrice_Winsorized"] = df["UnitPrice"].clip(lower=p01, upper=p99)
    df["TotalValue"] = df["Quantity"] * df["UnitPrice"]
    df["TotalValue_Log"] = np.log1p(df["TotalValue"].clip(lower=0))
    df["Price_Segment"] = pd.cut(
        df["UnitPrice"], bins=[0, 1, 5, 20, np.inf],
        labels=["Bajo", "Medio", "Alto", "Premium"],
    )
    return df[PARITY_CLEAN_COLUMNS]


# --------------------------------------------------------------------------
# Features
# --------------------------------------------------------------------------

def rfm_table(df: pd.DataFrame, analysis_date: pd.Timestamp) -> pd.DataFrame:
    g = df.groupby("CustomerID")
    last = g["InvoiceDate"].max()
    first = g["InvoiceDate"].min()
    out = pd.DataFrame({
        "Recency": (analysis_date - last).dt.days,
        "Frequency": g["InvoiceNo"].nunique(),
        "Monetary": g["TotalValue"].sum(),
    })
    out["AvgOrderValue"] = out["Monetary"] / out["Frequency"]
    out["DaysActive"] = (last - first).dt.days
    out["TotalQuantity"] = g["Quantity"].sum()
    out["AvgQuantity"] = g["Quantity"].mean()
    out["StdQuantity"] = g["Quantity"].std().fillna(0)
    out["AvgUnitPrice"] = g["UnitPrice"].mean()
    out["StdUnitPrice"] = g["UnitPrice"].std().fillna(0)
    out["MostFrequentCountry"] = g["Country"].agg(lambda s: s.mode().iloc[0])
    out["ProductVariety"] = g["StockCode"].nunique()
    out = out.reset_index()  # sorted by CustomerID

    out["R_Score"] = pd.qcut(out["Recency"], 5, labels=[5, 4, 3, 2, 1])
    out["F_Score"] = pd.qcut(out["Frequency"].rank(method="first"), 5,
                             labels=[1, 2, 3, 4, 5])
    out["M_Score"] = pd.qcut(out["Monetary"].rank(method="first"), 5,
                             labels=[1, 2, 3, 4, 5])
    out["RFM_Score"] = (out["R_Score"].astype(str) + out["F_Score"].astype(str)
                        + out["M_Score"].astype(str))

    def segment(row) -> str:
        r, f, m = int(row["R_Score"]), int(row["F_Score"]), int(row["M_Score"])
        if r >= 4 and f >= 4 and m >= 4:
            return "Champions"
        if r >= 3 and f >= 3 and m >= 3:
            return "Loyal_Customers"
        if r >= 4 and f <= 2:
            return "New_Customers"
        if r >= 3 and f <= 2 and m >= 3:
            return "Potential_Loyalists"
        if r <= 2 and f >= 3 and m >= 3:
            return "At_Risk"
        if r <= 2 and f <= 2 and m >= 3:
            return "Cannot_Lose"
        if r >= 3 and f >= 3 and m <= 2:
            return "Price_Sensitive"
        return "Others"

    out["Customer_Segment"] = out.apply(segment, axis=1)
    return out


def target_table(df: pd.DataFrame, cutoff: pd.Timestamp) -> pd.DataFrame:
    before = df[df["InvoiceDate"] <= cutoff]
    horizon = cutoff + pd.Timedelta(days=90)
    after = df[(df["InvoiceDate"] > cutoff) & (df["InvoiceDate"] <= horizon)]
    customers = pd.Series(before["CustomerID"].unique()).sort_values()
    buyers = set(after["CustomerID"].unique())
    return pd.DataFrame({
        "CustomerID": customers.values,
        "WillPurchase_90Days": customers.isin(buyers).astype("int64").values,
    })


def temporal_table(df: pd.DataFrame, cutoff: pd.Timestamp) -> pd.DataFrame:
    before = df[df["InvoiceDate"] <= cutoff].copy()
    before["Year"] = before["InvoiceDate"].dt.year
    before["Month"] = before["InvoiceDate"].dt.month
    before["Quarter"] = before["InvoiceDate"].dt.quarter
    before["DayOfWeek"] = before["InvoiceDate"].dt.day_of_week
    g = before.groupby("CustomerID")
    first = g["InvoiceDate"].min()
    last = g["InvoiceDate"].max()
    out = pd.DataFrame({
        "UniquePurchaseDays": g["InvoiceDate"].nunique(),
        "CustomerAge_Days": (cutoff - first).dt.days,
        "ActivityPeriod_Days": (last - first).dt.days,
        "UniqueYears": g["Year"].nunique(),
        "UniqueMonths": g["Month"].nunique(),
        "PreferredDayOfWeek": g["DayOfWeek"].agg(lambda s: s.mode().iloc[0]),
        "UniqueQuarters": g["Quarter"].nunique(),
    })
    denom = out["UniquePurchaseDays"] - 1
    out["AvgDaysBetweenPurchases"] = np.where(
        denom > 0, out["ActivityPeriod_Days"] / denom.where(denom > 0, 1), 0.0)
    return out.reset_index()


def assemble(rfm: pd.DataFrame, target: pd.DataFrame,
             temporal: pd.DataFrame) -> pd.DataFrame:
    out = rfm.merge(target, on="CustomerID", how="inner")
    out = out.merge(temporal, on="CustomerID", how="left")
    out[TEMPORAL_COLUMNS] = out[TEMPORAL_COLUMNS].fillna(0)
    return out[FEATURE_COLUMNS]


def cutoff_of(df: pd.DataFrame) -> pd.Timestamp:
    return df["InvoiceDate"].quantile(0.7)


def parity_features(clean: pd.DataFrame) -> tuple[pd.DataFrame, pd.Timestamp]:
    analysis_date = clean["InvoiceDate"].max()
    rfm = rfm_table(clean, analysis_date)
    cutoff = cutoff_of(clean)
    target = target_table(clean, cutoff)
    temporal = temporal_table(clean, cutoff)
    return assemble(rfm, target, temporal), cutoff


def standard_features(std: pd.DataFrame) -> tuple[pd.DataFrame, pd.Timestamp]:
    df = std.copy()  # TotalValue is the standard clean output's `amount`
    cutoff = cutoff_of(df)
    before = df[df["InvoiceDate"] <= cutoff]
    rfm = rfm_table(before, cutoff)
    target = target_table(df, cutoff)
    temporal = temporal_table(df, cutoff)
    return assemble(rfm, target, temporal), cutoff


# --------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------

def preset_summary(features: pd.DataFrame, cutoff: pd.Timestamp) -> dict:
    pos = int(features["WillPurchase_90Days"].sum())
    return {
        "cutoff": cutoff.strftime("%Y-%m-%d %H:%M:%S.%f"),
        "cutoff_ns": int(cutoff.as_unit("ns").value),
        "customers": int(len(features)),
        "positives": pos,
        "negatives": int(len(features)) - pos,
    }


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print("usage: pipeline.py INPUT.csv[.gz] OUTDIR", file=sys.stderr)
        return 2
    src, outdir = argv[1], argv[2]
    os.makedirs(outdir, exist_ok=True)

    raw = load(src)
    std, counts = clean_standard(raw)
    parity = clean_parity(std)
    counts["parity_rows_kept"] = int(len(parity))
    counts["parity_customers_kept"] = int(parity["CustomerID"].nunique())

    pf, p_cut = parity_features(parity)
    sf, s_cut = standard_features(std)

    with open(os.path.join(outdir, "clean_counts.json"), "w") as fh:
        json.dump(counts, fh, indent=2)
        fh.write("\n")
    parity.to_csv(os.path.join(outdir, "parity_clean.csv"), index=False,
                  float_format=FLOAT_FORMAT)
    pf.to_csv(os.path.join(outdir, "parity_features.csv"), index=False,
              float_format=FLOAT_FORMAT)
    sf.to_csv(os.path.join(outdir, "standard_features.csv"), index=False,
              float_format=FLOAT_FORMAT)
    summary = {
        "pandas": pd.__version__,
        "numpy": np.__version__,
        "parity": preset_summary(pf, p_cut),
        "standard": preset_summary(sf, s_cut),
    }
    with open(os.path.join(outdir, "summary.json"), "w") as fh:
        json.dump(summary, fh, indent=2)
        fh.write("\n")
    print(json.dumps({"clean": counts, **summary}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
