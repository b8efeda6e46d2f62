"""The `standard` clean + features pipeline in DuckDB SQL, as an analyst
would write it: one table for the clean rows, one query for the features,
written with COPY … TO Parquet.

    python duckdb_pipeline.py INPUT.csv FEATURES.parquet

Same rules and features as polars_pipeline.py and `tablero etl clean` +
`tablero etl features` (docs/cli.md).
"""

import sys

import duckdb

CLEAN = """
CREATE TEMP TABLE clean AS
SELECT DISTINCT
    InvoiceNo, StockCode, trim(Description) AS Description, Quantity,
    InvoiceDate, UnitPrice, CAST(CAST(CustomerID AS BIGINT) AS VARCHAR) AS CustomerID,
    Country, Quantity * UnitPrice AS amount
FROM read_csv(?, header = true, types = {
    'InvoiceNo': 'VARCHAR', 'StockCode': 'VARCHAR', 'Description': 'VARCHAR',
    'Quantity': 'DOUBLE', 'InvoiceDate': 'TIMESTAMP', 'UnitPrice': 'DOUBLE',
    'CustomerID': 'DOUBLE', 'Country': 'VARCHAR'})
WHERE InvoiceDate IS NOT NULL AND Quantity IS NOT NULL AND UnitPrice IS NOT NULL
  AND CustomerID IS NOT NULL AND NOT starts_with(InvoiceNo, 'C')
  AND Quantity > 0 AND UnitPrice > 0
"""

FEATURES = """
COPY (
WITH cut AS (
    SELECT quantile_cont(InvoiceDate, 0.7) AS cutoff FROM clean
),
hist AS (
    SELECT c.* FROM clean c, cut WHERE c.InvoiceDate <= cut.cutoff
),
target AS (
    SELECT DISTINCT CustomerID FROM clean c, cut
    WHERE c.InvoiceDate > cut.cutoff AND c.InvoiceDate <= cut.cutoff + INTERVAL 90 DAY
),
country AS (
    SELECT CustomerID, arg_min(Country, (-n, Country)) AS MostFrequentCountry
    FROM (SELECT CustomerID, Country, count(*) AS n FROM hist GROUP BY ALL)
    GROUP BY CustomerID
),
weekday AS (
    SELECT CustomerID, arg_min(wd, (-n, wd)) AS PreferredDayOfWeek
    FROM (SELECT CustomerID, isodow(InvoiceDate) - 1 AS wd, count(*) AS n FROM hist GROUP BY ALL)
    GROUP BY CustomerID
),
agg AS (
    SELECT
        CustomerID,
        min(InvoiceDate) AS first, max(InvoiceDate) AS last,
        count(DISTINCT InvoiceNo) AS Frequency,
        sum(amount) AS Monetary,
        sum(Quantity) AS TotalQuantity,
        avg(Quantity) AS AvgQuantity,
        coalesce(stddev_samp(Quantity), 0) AS StdQuantity,
        avg(UnitPrice) AS AvgUnitPrice,
        coalesce(stddev_samp(UnitPrice), 0) AS StdUnitPrice,
        count(DISTINCT StockCode) AS ProductVariety,
        count(DISTINCT InvoiceDate) AS UniquePurchaseDays,
        count(DISTINCT year(InvoiceDate)) AS UniqueYears,
        count(DISTINCT month(InvoiceDate)) AS UniqueMonths,
        count(DISTINCT quarter(InvoiceDate)) AS UniqueQuarters
    FROM hist GROUP BY CustomerID
),
days AS (
    SELECT a.*,
        floor(epoch_us(cut.cutoff - a.last) / 86400e6)::BIGINT AS Recency,
        floor(epoch_us(a.last - a.first) / 86400e6)::BIGINT AS DaysActive,
        floor(epoch_us(cut.cutoff - a.first) / 86400e6)::BIGINT AS CustomerAge_Days
    FROM agg a, cut
),
ranked AS (
    SELECT *,
        row_number() OVER (ORDER BY Frequency, CAST(CustomerID AS BIGINT)) AS f_rank,
        row_number() OVER (ORDER BY round(Monetary, 6), CAST(CustomerID AS BIGINT)) AS m_rank
    FROM days
),
edges AS (
    SELECT
        quantile_cont(Recency, [0.2, 0.4, 0.6, 0.8]) AS r,
        quantile_cont(f_rank, [0.2, 0.4, 0.6, 0.8]) AS f,
        quantile_cont(m_rank, [0.2, 0.4, 0.6, 0.8]) AS m
    FROM ranked
),
scored AS (
    SELECT d.*,
        5 - ((Recency > e.r[1])::INT + (Recency > e.r[2])::INT + (Recency > e.r[3])::INT + (Recency > e.r[4])::INT) AS R_Score,
        1 + ((f_rank > e.f[1])::INT + (f_rank > e.f[2])::INT + (f_rank > e.f[3])::INT + (f_rank > e.f[4])::INT) AS F_Score,
        1 + ((m_rank > e.m[1])::INT + (m_rank > e.m[2])::INT + (m_rank > e.m[3])::INT + (m_rank > e.m[4])::INT) AS M_Score
    FROM ranked d, edges e
)
SELECT
    s.CustomerID, Recency, Frequency, Monetary, Monetary / Frequency AS AvgOrderValue,
    DaysActive, TotalQuantity, AvgQuantity, StdQuantity, AvgUnitPrice, StdUnitPrice,
    MostFrequentCountry, ProductVariety, R_Score, F_Score, M_Score,
    concat(R_Score, F_Score, M_Score) AS RFM_Score,
    CASE
        WHEN R_Score >= 4 AND F_Score >= 4 AND M_Score >= 4 THEN 'Champions'
        WHEN R_Score >= 3 AND F_Score >= 3 AND M_Score >= 3 THEN 'Loyal_Customers'
        WHEN R_Score >= 4 AND F_Score <= 2 THEN 'New_Customers'
        WHEN R_Score >= 3 AND F_Score <= 2 AND M_Score >= 3 THEN 'Potential_Loyalists'
        WHEN R_Score <= 2 AND F_Score >= 3 AND M_Score >= 3 THEN 'At_Risk'
        WHEN R_Score <= 2 AND F_Score <= 2 AND M_Score >= 3 THEN 'Cannot_Lose'
        WHEN R_Score >= 3 AND F_Score >= 3 AND M_Score <= 2 THEN 'Price_Sensitive'
        ELSE 'Others'
    END AS Customer_Segment,
    CASE WHEN t.CustomerID IS NULL THEN 0 ELSE 1 END AS WillPurchase_90Days,
    UniquePurchaseDays, CustomerAge_Days, DaysActive AS ActivityPeriod_Days,
    UniqueYears, UniqueMonths, PreferredDayOfWeek, UniqueQuarters,
    CASE WHEN UniquePurchaseDays > 1 THEN DaysActive / (UniquePurchaseDays - 1) ELSE 0 END
        AS AvgDaysBetweenPurchases
FROM scored s
JOIN country USING (CustomerID)
JOIN weekday USING (CustomerID)
LEFT JOIN target t ON t.CustomerID = s.CustomerID
ORDER BY CAST(s.CustomerID AS BIGINT)
) TO ? (FORMAT parquet)
"""


def main(src, dst):
    con = duckdb.connect()
    con.execute(CLEAN, [src])
    # COPY takes no prepared parameter for its target: quote the path.
    con.execute(FEATURES.replace("TO ?", "TO '" + dst.replace("'", "''") + "'"))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
