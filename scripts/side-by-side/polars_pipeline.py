"""The `standard` clean + features pipeline in Python polars, as an analyst
would write it: lazy scan, streaming engine, one pass for the clean table
and the cut-off, one for the features.

    python polars_pipeline.py INPUT.csv FEATURES.parquet

Same rules and features as `tablero etl clean` + `tablero etl features`
(docs/cli.md): rows with an unparseable date, quantity or price dropped,
exact duplicates dropped, no customer, cancellations (`C…`) and
non-positive quantity or price dropped; features from rows at or before the
0.7 quantile of the timestamps; target = a purchase in the next 90 days.
"""

import sys

import polars as pl

DAY_US = 86_400_000_000
HORIZON_DAYS = 90


def main(src, dst):
    d = pl.col("InvoiceDate")
    clean = (
        pl.scan_csv(
            src,
            schema_overrides={
                "InvoiceNo": pl.String,
                "StockCode": pl.String,
                "Description": pl.String,
                "InvoiceDate": pl.String,
                "CustomerID": pl.Float64,
                "Country": pl.String,
            },
        )
        .with_columns(
            pl.col("Description").str.strip_chars(),
            d.str.to_datetime("%Y-%m-%d %H:%M:%S", time_unit="us", strict=False),
        )
        .drop_nulls(["InvoiceDate", "Quantity", "UnitPrice", "CustomerID"])
        .filter(
            ~pl.col("InvoiceNo").str.starts_with("C")
            & (pl.col("Quantity") > 0)
            & (pl.col("UnitPrice") > 0)
        )
        .unique()
        .with_columns(
            pl.col("CustomerID").cast(pl.Int64).cast(pl.String),
            (pl.col("Quantity") * pl.col("UnitPrice")).alias("amount"),
        )
        .collect(engine="streaming")
    )

    cutoff_us = round(clean.select(d.cast(pl.Int64).quantile(0.7, "linear")).item())
    cutoff = pl.lit(cutoff_us).cast(pl.Datetime("us"))
    horizon_end = pl.lit(cutoff_us + HORIZON_DAYS * DAY_US).cast(pl.Datetime("us"))

    lazy = clean.lazy()
    target = (
        lazy.filter((d > cutoff) & (d <= horizon_end))
        .select("CustomerID")
        .unique()
        .with_columns(pl.lit(1, pl.Int64).alias("WillPurchase_90Days"))
    )
    hist = lazy.filter(d <= cutoff)
    country = (
        hist.group_by("CustomerID", "Country")
        .len()
        .sort(["CustomerID", "len", "Country"], descending=[False, True, False])
        .group_by("CustomerID")
        .agg(pl.col("Country").first().alias("MostFrequentCountry"))
    )
    weekday = (
        hist.with_columns((d.dt.weekday() - 1).cast(pl.Int64).alias("wd"))
        .group_by("CustomerID", "wd")
        .len()
        .sort(["CustomerID", "len", "wd"], descending=[False, True, False])
        .group_by("CustomerID")
        .agg(pl.col("wd").first().alias("PreferredDayOfWeek"))
    )
    days = lambda a, b: ((b - a).dt.total_microseconds() // DAY_US)  # noqa: E731
    feats = (
        hist.group_by("CustomerID")
        .agg(
            d.min().alias("first"),
            d.max().alias("last"),
            pl.col("InvoiceNo").n_unique().alias("Frequency"),
            pl.col("amount").sum().alias("Monetary"),
            pl.col("Quantity").sum().cast(pl.Float64).alias("TotalQuantity"),
            pl.col("Quantity").mean().alias("AvgQuantity"),
            pl.col("Quantity").std().alias("StdQuantity"),
            pl.col("UnitPrice").mean().alias("AvgUnitPrice"),
            pl.col("UnitPrice").std().alias("StdUnitPrice"),
            pl.col("StockCode").n_unique().alias("ProductVariety"),
            d.n_unique().alias("UniquePurchaseDays"),
            d.dt.year().n_unique().alias("UniqueYears"),
            d.dt.month().n_unique().alias("UniqueMonths"),
            d.dt.quarter().n_unique().alias("UniqueQuarters"),
        )
        .join(country, on="CustomerID")
        .join(weekday, on="CustomerID")
        .join(target, on="CustomerID", how="left")
        .with_columns(
            days(pl.col("last"), cutoff).alias("Recency"),
            days(pl.col("first"), pl.col("last")).alias("DaysActive"),
            days(pl.col("first"), cutoff).alias("CustomerAge_Days"),
            pl.col("StdQuantity").fill_null(0.0),
            pl.col("StdUnitPrice").fill_null(0.0),
            pl.col("WillPurchase_90Days").fill_null(0),
            pl.col("Frequency").cast(pl.Int64),
            pl.col("ProductVariety").cast(pl.Int64),
            pl.col("UniquePurchaseDays").cast(pl.Int64),
            pl.col("UniqueYears").cast(pl.Int64),
            pl.col("UniqueMonths").cast(pl.Int64),
            pl.col("UniqueQuarters").cast(pl.Int64),
        )
        .with_columns(
            pl.col("DaysActive").alias("ActivityPeriod_Days"),
            (pl.col("Monetary") / pl.col("Frequency")).alias("AvgOrderValue"),
            pl.when(pl.col("UniquePurchaseDays") > 1)
            .then(pl.col("DaysActive") / (pl.col("UniquePurchaseDays") - 1))
            .otherwise(0.0)
            .alias("AvgDaysBetweenPurchases"),
        )
        .sort(pl.col("CustomerID").cast(pl.Int64))
        .with_columns(
            (5 - quintile(pl.col("Recency"))).alias("R_Score"),
            (1 + quintile(pl.col("Frequency").rank("ordinal"))).alias("F_Score"),
            (1 + quintile(pl.col("Monetary").round(6).rank("ordinal"))).alias("M_Score"),
        )
        .with_columns(
            pl.concat_str("R_Score", "F_Score", "M_Score").alias("RFM_Score"),
            segment(pl.col("R_Score"), pl.col("F_Score"), pl.col("M_Score")),
        )
        .select(COLUMNS)
        .collect(engine="streaming")
    )
    feats.write_parquet(dst)


def quintile(x):
    """Bin 0..4 of `x` as `pd.qcut(x, 5)`: right-closed, edges the linear
    quantiles at 0, .2, .4, .6, .8, 1."""
    edges = [x.quantile(q, "linear") for q in (0.2, 0.4, 0.6, 0.8)]
    return sum((x > e).cast(pl.Int64) for e in edges)


def segment(r, f, m):
    rules = [
        ((r >= 4) & (f >= 4) & (m >= 4), "Champions"),
        ((r >= 3) & (f >= 3) & (m >= 3), "Loyal_Customers"),
        ((r >= 4) & (f <= 2), "New_Customers"),
        ((r >= 3) & (f <= 2) & (m >= 3), "Potential_Loyalists"),
        ((r <= 2) & (f >= 3) & (m >= 3), "At_Risk"),
        ((r <= 2) & (f <= 2) & (m >= 3), "Cannot_Lose"),
        ((r >= 3) & (f >= 3) & (m <= 2), "Price_Sensitive"),
    ]
    expr = pl.when(rules[0][0]).then(pl.lit(rules[0][1]))
    for cond, name in rules[1:]:
        expr = expr.when(cond).then(pl.lit(name))
    return expr.otherwise(pl.lit("Others")).alias("Customer_Segment")


COLUMNS = [
    "CustomerID", "Recency", "Frequency", "Monetary", "AvgOrderValue", "DaysActive",
    "TotalQuantity", "AvgQuantity", "StdQuantity", "AvgUnitPrice", "StdUnitPrice",
    "MostFrequentCountry", "ProductVariety", "R_Score", "F_Score", "M_Score", "RFM_Score",
    "Customer_Segment", "WillPurchase_90Days", "UniquePurchaseDays", "CustomerAge_Days",
    "ActivityPeriod_Days", "UniqueYears", "UniqueMonths", "PreferredDayOfWeek",
    "UniqueQuarters", "AvgDaysBetweenPurchases",
]

if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
