//! The clean stage (the original pipeline's "preprocessing" step): the
//! rules, in order, each counted with examples; and for the `parity` preset
//! the geographic filter and derived columns of the pipeline it replaces.

use rustc_hash::{FxHashMap, FxHashSet};

use polars::prelude::*;

use crate::error::{Error, Result};
use crate::ingest::{Canonical, IngestSpec, Parsed, Transactions};
use crate::progress::Progress;
use crate::report::{CleanReport, CountryTier, RuleCount};
use crate::stats;
use crate::table::{self, TableMeta};

pub use crate::preset::Preset;

const MAX_EXAMPLES: usize = 5;

/// Region of a country in the parity geographic filter.
pub fn region_of(country: &str) -> &'static str {
    match country {
        "United Kingdom" | "Germany" | "France" | "Spain" | "Netherlands" | "Belgium"
        | "Switzerland" | "Austria" | "Italy" | "Portugal" | "Norway" | "Denmark" | "Finland"
        | "Sweden" | "Poland" | "Cyprus" => "Europe",
        "Australia" | "Japan" | "Singapore" | "Hong Kong" => "Asia-Pacific",
        "USA" | "Canada" | "Brazil" => "Americas",
        _ => "Other",
    }
}

/// Tier of a country by its row count: 1 (>= 1000), 2 (100..999), 3 (< 100).
pub fn tier_of(rows: u64) -> u8 {
    match rows {
        r if r >= 1000 => 1,
        r if r >= 100 => 2,
        _ => 3,
    }
}

/// Price segment of a unit price: Bajo (0,1], Medio (1,5], Alto (5,20], Premium (20,∞).
pub fn price_segment(p: f64) -> Option<&'static str> {
    match p {
        p if p > 0.0 && p <= 1.0 => Some("Bajo"),
        p if p > 1.0 && p <= 5.0 => Some("Medio"),
        p if p > 5.0 && p <= 20.0 => Some("Alto"),
        p if p > 20.0 => Some("Premium"),
        _ => None,
    }
}

/// Runs the clean rules on parsed rows and builds the output table.
///
/// Returns the table (to be written as Parquet with its [`TableMeta`]) and
/// the report.
pub fn clean(
    parsed: Parsed,
    spec: &IngestSpec,
    preset: Preset,
    progress: &dyn Progress,
) -> Result<(DataFrame, TableMeta, CleanReport)> {
    let rows_in = parsed.rows_read;
    let tx = parsed.rows;
    let mut rules = vec![RuleCount {
        rule: "unparseable".into(),
        description: "a required value (date, quantity, price) could not be parsed".into(),
        removed: parsed.unparseable,
        examples: parsed.unparseable_examples,
    }];
    progress.update(0.55, "applying clean rules")?;

    let mut dup = rule("duplicate", "exact duplicate of an earlier row");
    let mut missing = rule("missing_customer_id", "no customer id");
    let mut cancel = rule("cancellation", "invoice id starts with C (a cancellation)");
    let mut nonpos = rule("non_positive", "quantity <= 0 or unit price <= 0");
    let mut seen: FxHashSet<u128> =
        FxHashSet::with_capacity_and_hasher(tx.len(), Default::default());
    let mut kept = Vec::with_capacity(tx.len());
    for i in 0..tx.len() {
        let hit = if !seen.insert(tx.row_hash[i]) {
            Some(&mut dup)
        } else if tx.customer_id.get(i).is_empty() {
            Some(&mut missing)
        } else if tx
            .invoice_id
            .as_ref()
            .is_some_and(|c| c.get(i).starts_with('C'))
        {
            Some(&mut cancel)
        } else if !(tx.quantity[i] > 0.0 && tx.unit_price[i] > 0.0) {
            Some(&mut nonpos)
        } else {
            None
        };
        match hit {
            Some(r) => {
                r.removed += 1;
                if r.examples.len() < MAX_EXAMPLES {
                    r.examples.push(tx.example(i, None));
                }
            }
            None => kept.push(i),
        }
    }
    drop(seen);
    rules.extend([dup, missing, cancel, nonpos]);

    let mut countries = None;
    let mut winsor = None;
    let (tx, df, meta) = match preset {
        Preset::Standard => {
            let tx = tx.take(&kept);
            let (df, meta) = standard_table(&tx)?;
            (tx, df, meta)
        }
        Preset::Parity => {
            // Filter by index first, so the rows are copied only once.
            let geo = geographic_filter(&tx, &kept)?;
            drop(kept);
            let tx = tx.take(&geo.kept);
            rules.push(geo.rule);
            countries = Some(geo.tiers);
            let (df, meta, limits) = parity_table(
                &tx,
                &geo.country_ids,
                &geo.country_tier,
                &geo.country_region,
            )?;
            winsor = Some(limits);
            (tx, df, meta)
        }
    };
    progress.update(0.8, "summarising")?;
    let customers = tx.customer_id.iter().collect::<FxHashSet<_>>().len() as u64;
    let report = CleanReport {
        preset: preset.name().into(),
        ingest: spec.clone(),
        rows_in,
        rows_out: tx.len() as u64,
        customers,
        rules,
        countries,
        winsor_limits: winsor,
        columns: table::summarise(&df, false)?,
    };
    Ok((df, meta, report))
}

fn rule(id: &str, description: &str) -> RuleCount {
    RuleCount {
        rule: id.into(),
        description: description.into(),
        removed: 0,
        examples: Vec::new(),
    }
}

fn opt_str_column(name: &str, col: &Option<crate::strcol::StrCol>, rows: usize) -> Column {
    match col {
        Some(c) => Column::new(name.into(), c.iter().collect::<Vec<_>>()),
        None => Column::full_null(name.into(), rows, &DataType::String),
    }
}

fn datetime_column(name: &str, ns: &[i64]) -> Result<Column> {
    Ok(Column::new(name.into(), ns).cast(&DataType::Datetime(TimeUnit::Nanoseconds, None))?)
}

fn absent(tx: &Transactions) -> Vec<String> {
    [
        (Canonical::InvoiceId, tx.invoice_id.is_none()),
        (Canonical::ProductId, tx.product_id.is_none()),
        (Canonical::Description, tx.description.is_none()),
        (Canonical::Country, tx.country.is_none()),
    ]
    .into_iter()
    .filter(|(_, a)| *a)
    .map(|(c, _)| c.name().to_string())
    .collect()
}

fn standard_table(tx: &Transactions) -> Result<(DataFrame, TableMeta)> {
    let n = tx.len();
    let columns = vec![
        opt_str_column("invoice_id", &tx.invoice_id, n),
        opt_str_column("product_id", &tx.product_id, n),
        opt_str_column("description", &tx.description, n),
        Column::new("quantity".into(), &tx.quantity),
        datetime_column("invoice_date", &tx.invoice_date)?,
        Column::new("unit_price".into(), &tx.unit_price),
        Column::new(
            "customer_id".into(),
            tx.customer_id.iter().collect::<Vec<_>>(),
        ),
        opt_str_column("country", &tx.country, n),
        Column::new("amount".into(), &tx.amount),
    ];
    let df = DataFrame::new(n, columns)?;
    Ok((df, TableMeta::clean(Preset::Standard, absent(tx))))
}

/// The parity geographic filter's outcome, by row index.
struct GeoFilter {
    /// Rows kept (indices into the transactions).
    kept: Vec<usize>,
    /// Country id of each kept row, in `kept` order.
    country_ids: Vec<u32>,
    /// Tier and region of each country id.
    country_tier: Vec<i64>,
    country_region: Vec<&'static str>,
    tiers: Vec<CountryTier>,
    rule: RuleCount,
}

fn geographic_filter(tx: &Transactions, rows: &[usize]) -> Result<GeoFilter> {
    let country = tx.country.as_ref().ok_or_else(|| {
        Error::WrongInput(
            "the parity preset needs a country column (its geographic filter keeps countries by region); \
             map one at upload or use --preset standard"
                .into(),
        )
    })?;
    let mut map: FxHashMap<&str, u32> = FxHashMap::default();
    let mut names: Vec<&str> = Vec::new();
    let mut counts: Vec<u64> = Vec::new();
    let ids: Vec<u32> = rows
        .iter()
        .map(|&i| {
            let c = country.get(i);
            let id = *map.entry(c).or_insert_with(|| {
                names.push(c);
                counts.push(0);
                (names.len() - 1) as u32
            });
            counts[id as usize] += 1;
            id
        })
        .collect();
    let country_tier: Vec<i64> = counts.iter().map(|&r| i64::from(tier_of(r))).collect();
    let country_region: Vec<&'static str> = names.iter().map(|c| region_of(c)).collect();
    let keep: Vec<bool> = (0..names.len())
        .map(|c| country_tier[c] <= 2 && country_region[c] != "Other")
        .collect();
    let mut tiers: Vec<CountryTier> = (0..names.len())
        .map(|c| CountryTier {
            country: names[c].to_string(),
            rows: counts[c],
            tier: tier_of(counts[c]),
            region: country_region[c].into(),
            kept: keep[c],
        })
        .collect();
    tiers.sort_by(|a, b| b.rows.cmp(&a.rows).then(a.country.cmp(&b.country)));
    let mut rule = rule(
        "geographic_filter",
        "parity: country not of tier 1-2 (>= 100 rows) in Europe, Asia-Pacific or the Americas",
    );
    let mut kept = Vec::with_capacity(rows.len());
    let mut country_ids = Vec::with_capacity(rows.len());
    for (&i, &c) in rows.iter().zip(&ids) {
        if keep[c as usize] {
            kept.push(i);
            country_ids.push(c);
        } else {
            rule.removed += 1;
            if rule.examples.len() < MAX_EXAMPLES {
                rule.examples.push(tx.example(i, None));
            }
        }
    }
    Ok(GeoFilter {
        kept,
        country_ids,
        country_tier,
        country_region,
        tiers,
        rule,
    })
}

fn parity_table(
    tx: &Transactions,
    country_ids: &[u32],
    country_tier: &[i64],
    country_region: &[&'static str],
) -> Result<(DataFrame, TableMeta, (f64, f64))> {
    let n = tx.len();
    let country = tx
        .country
        .as_ref()
        .ok_or_else(|| Error::WrongInput("parity needs a country column".into()))?;
    // Filtering keeps or drops whole countries, so the tiers counted
    // before the filter hold after it.
    let tier: Vec<i64> = country_ids
        .iter()
        .map(|&c| country_tier[c as usize])
        .collect();
    let region: Vec<&str> = country_ids
        .iter()
        .map(|&c| country_region[c as usize])
        .collect();
    let (lo, hi) = if n == 0 {
        (f64::NAN, f64::NAN)
    } else {
        let mut sorted = tx.unit_price.clone();
        sorted.sort_by(f64::total_cmp);
        (
            stats::quantile_sorted(&sorted, 0.01),
            stats::quantile_sorted(&sorted, 0.99),
        )
    };
    let total: Vec<f64> = tx
        .quantity
        .iter()
        .zip(&tx.unit_price)
        .map(|(q, p)| q * p)
        .collect();
    let columns = vec![
        opt_str_column("InvoiceNo", &tx.invoice_id, n),
        opt_str_column("StockCode", &tx.product_id, n),
        opt_str_column("Description", &tx.description, n),
        Column::new("Quantity".into(), &tx.quantity),
        datetime_column("InvoiceDate", &tx.invoice_date)?,
        Column::new("UnitPrice".into(), &tx.unit_price),
        Column::new(
            "CustomerID".into(),
            tx.customer_id.iter().collect::<Vec<_>>(),
        ),
        Column::new("Country".into(), country.iter().collect::<Vec<_>>()),
        Column::new("Country_Tier".into(), tier),
        Column::new("Region".into(), region),
        Column::new(
            "UnitPrice_Log".into(),
            tx.unit_price.iter().map(|p| p.ln_1p()).collect::<Vec<_>>(),
        ),
        Column::new(
            "UnitPrice_Winsorized".into(),
            tx.unit_price
                .iter()
                .map(|p| p.clamp(lo, hi))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "TotalValue_Log".into(),
            total.iter().map(|t| t.max(0.0).ln_1p()).collect::<Vec<_>>(),
        ),
        Column::new("TotalValue".into(), total),
        Column::new(
            "Price_Segment".into(),
            tx.unit_price
                .iter()
                .map(|p| price_segment(*p))
                .collect::<Vec<_>>(),
        ),
    ];
    let mut df = DataFrame::new(n, columns)?;
    // TotalValue comes before TotalValue_Log in the pipeline's file.
    df = df.select([
        "InvoiceNo",
        "StockCode",
        "Description",
        "Quantity",
        "InvoiceDate",
        "UnitPrice",
        "CustomerID",
        "Country",
        "Country_Tier",
        "Region",
        "UnitPrice_Log",
        "UnitPrice_Winsorized",
        "TotalValue",
        "TotalValue_Log",
        "Price_Segment",
    ])?;
    Ok((df, TableMeta::clean(Preset::Parity, absent(tx)), (lo, hi)))
}
