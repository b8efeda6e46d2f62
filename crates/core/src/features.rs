//! The features stage (the original pipeline's "feature engineering" step):
//! one row per customer with RFM, scores, segments, temporal features and
//! the target `WillPurchase_90Days`.
//!
//! `standard` computes every feature from rows at or before the cut-off.
//! `parity` reproduces the pipeline this product replaces, including its
//! flaw: RFM over all rows, so the target leaks into the features.

use rustc_hash::FxHashMap;

use polars::prelude::*;

use crate::dates::{self, DAY_NS};
use crate::error::{Error, Result};
use crate::preset::Preset;
use crate::progress::Progress;
use crate::report::{FeatureReport, NullFeature};
use crate::stats::{self, KahanSum, Welford};
use crate::table::{self, FeatureRoles, TableMeta};

/// The target column's name (kept whatever the horizon).
pub const TARGET: &str = "WillPurchase_90Days";

/// Output columns, in order.
pub const COLUMNS: [&str; 27] = [
    "CustomerID",
    "Recency",
    "Frequency",
    "Monetary",
    "AvgOrderValue",
    "DaysActive",
    "TotalQuantity",
    "AvgQuantity",
    "StdQuantity",
    "AvgUnitPrice",
    "StdUnitPrice",
    "MostFrequentCountry",
    "ProductVariety",
    "R_Score",
    "F_Score",
    "M_Score",
    "RFM_Score",
    "Customer_Segment",
    TARGET,
    "UniquePurchaseDays",
    "CustomerAge_Days",
    "ActivityPeriod_Days",
    "UniqueYears",
    "UniqueMonths",
    "PreferredDayOfWeek",
    "UniqueQuarters",
    "AvgDaysBetweenPurchases",
];

/// Parameters of the features stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeatureParams {
    /// Preset; must match the clean table's.
    pub preset: Preset,
    /// Cut-off (ns); `None` = the 0.7 quantile of the timestamps.
    pub cutoff: Option<i64>,
    /// Horizon in days.
    pub horizon_days: u32,
}

impl Default for FeatureParams {
    fn default() -> Self {
        FeatureParams {
            preset: Preset::Standard,
            cutoff: None,
            horizon_days: 90,
        }
    }
}

/// Customer segment of R/F/M scores, by the first matching rule.
pub fn segment(r: i64, f: i64, m: i64) -> &'static str {
    if r >= 4 && f >= 4 && m >= 4 {
        "Champions"
    } else if r >= 3 && f >= 3 && m >= 3 {
        "Loyal_Customers"
    } else if r >= 4 && f <= 2 {
        "New_Customers"
    } else if r >= 3 && f <= 2 && m >= 3 {
        "Potential_Loyalists"
    } else if r <= 2 && f >= 3 && m >= 3 {
        "At_Risk"
    } else if r <= 2 && f <= 2 && m >= 3 {
        "Cannot_Lose"
    } else if r >= 3 && f >= 3 && m <= 2 {
        "Price_Sensitive"
    } else {
        "Others"
    }
}

/// Column names of a clean table, by preset.
struct Names {
    customer: &'static str,
    invoice: &'static str,
    product: &'static str,
    date: &'static str,
    quantity: &'static str,
    price: &'static str,
    total: &'static str,
    country: &'static str,
}

const STANDARD_NAMES: Names = Names {
    customer: "customer_id",
    invoice: "invoice_id",
    product: "product_id",
    date: "invoice_date",
    quantity: "quantity",
    price: "unit_price",
    total: "amount",
    country: "country",
};

const PARITY_NAMES: Names = Names {
    customer: "CustomerID",
    invoice: "InvoiceNo",
    product: "StockCode",
    date: "InvoiceDate",
    quantity: "Quantity",
    price: "UnitPrice",
    total: "TotalValue",
    country: "Country",
};

/// The clean table's columns the stage reads, for `preset` (the others,
/// such as the description, need not be read at all).
pub fn input_columns(preset: Preset) -> [&'static str; 8] {
    let n = match preset {
        Preset::Standard => STANDARD_NAMES,
        Preset::Parity => PARITY_NAMES,
    };
    [
        n.customer, n.invoice, n.product, n.date, n.quantity, n.price, n.total, n.country,
    ]
}

fn f64_values(df: &DataFrame, name: &str) -> Result<Vec<f64>> {
    let c = df.column(name)?.cast(&DataType::Float64)?;
    let ca = c.f64()?;
    let mut out = Vec::with_capacity(ca.len());
    for arr in ca.downcast_iter() {
        if arr.validity().is_none() {
            out.extend_from_slice(arr.values());
        } else {
            out.extend(arr.iter().map(|v| v.copied().unwrap_or(f64::NAN)));
        }
    }
    Ok(out)
}

/// Per-customer aggregates before scoring.
#[derive(Default, Clone)]
struct Agg {
    recency: i64,
    frequency: i64,
    monetary: f64,
    days_active: i64,
    total_qty: f64,
    avg_qty: f64,
    std_qty: f64,
    avg_price: f64,
    std_price: f64,
    country: Option<String>,
    variety: Option<i64>,
    in_scope: bool,
    target: i64,
    unique_ts: i64,
    age_days: i64,
    activity_days: i64,
    years: i64,
    months: i64,
    weekday: i64,
    quarters: i64,
}

/// Builds the features table from a clean table.
pub fn features(
    clean: &DataFrame,
    meta: Option<&TableMeta>,
    params: FeatureParams,
    progress: &dyn Progress,
) -> Result<(DataFrame, TableMeta, FeatureReport)> {
    features_from(
        std::iter::once(Ok(clean.clone())),
        clean.height(),
        meta,
        params,
        progress,
    )
}

/// Text interned to dense ids, a piece of the table at a time.
#[derive(Default)]
struct Interner {
    map: FxHashMap<Box<str>, u32>,
    names: Vec<Box<str>>,
    ids: Vec<u32>,
}

impl Interner {
    fn add(&mut self, col: &StringChunked) {
        self.ids.reserve(col.len());
        // Rows of one invoice (one customer, one country) follow each other:
        // a value equal to the previous row's needs no lookup.
        let mut previous: Option<(Option<&str>, u32)> = None;
        for arr in col.downcast_iter() {
            for v in arr.iter() {
                let id = match previous {
                    Some((p, id)) if p == v => id,
                    _ => {
                        let key = v.unwrap_or("");
                        let id = match self.map.get(key) {
                            Some(&id) => id,
                            None => {
                                let id = self.names.len() as u32;
                                self.map.insert(key.into(), id);
                                self.names.push(key.into());
                                id
                            }
                        };
                        previous = Some((v, id));
                        id
                    }
                };
                self.ids.push(id);
            }
        }
    }
}

/// The clean table's rows as the stage uses them, gathered a piece at a
/// time: text as ids, timestamps and numbers in vectors of their own.
struct Gathered {
    customers: Interner,
    invoices: Option<Interner>,
    products: Option<Interner>,
    countries: Option<Interner>,
    dates: Vec<i64>,
    qty: Vec<f64>,
    price: Vec<f64>,
    total: Vec<f64>,
}

impl Gathered {
    /// Adds a piece; with `threads`, the text columns are interned on
    /// threads of their own.
    fn add(&mut self, piece: &DataFrame, names: &Names, threads: bool) -> Result<()> {
        let customers = piece.column(names.customer)?.str()?;
        let invoices = piece.column(names.invoice)?.str()?;
        let products = piece.column(names.product)?.str()?;
        let countries = piece.column(names.country)?.str()?;
        self.dates
            .extend(table::datetime_ns_or(piece.column(names.date)?, i64::MIN)?);
        self.qty.extend(f64_values(piece, names.quantity)?);
        self.price.extend(f64_values(piece, names.price)?);
        self.total.extend(f64_values(piece, names.total)?);
        let Gathered {
            customers: c,
            invoices: i,
            products: p,
            countries: k,
            ..
        } = self;
        if !threads {
            c.add(customers);
            for (interner, col) in [(i, invoices), (p, products), (k, countries)] {
                if let Some(interner) = interner {
                    interner.add(col);
                }
            }
            return Ok(());
        }
        // Four hash passes over the rows, on as many threads as there are.
        std::thread::scope(|s| {
            s.spawn(|| {
                if let Some(i) = i {
                    i.add(invoices);
                }
            });
            s.spawn(|| {
                if let Some(p) = p {
                    p.add(products);
                }
                if let Some(k) = k {
                    k.add(countries);
                }
            });
            c.add(customers);
        });
        Ok(())
    }
}

/// [`features`] on a clean table read a piece at a time (the row groups of
/// its Parquet file): each piece's text is interned and its numbers copied
/// before the next is read, so memory holds the stage's own columns (about
/// 50 bytes a row), not the table.
///
/// `rows`: the table's rows when known (room for them is made at once,
/// rather than grown), else 0.
pub fn features_from(
    pieces: impl Iterator<Item = Result<DataFrame>>,
    rows: usize,
    meta: Option<&TableMeta>,
    params: FeatureParams,
    progress: &dyn Progress,
) -> Result<(DataFrame, TableMeta, FeatureReport)> {
    let meta = check_input(meta, params)?;
    progress.update(0.05, "reading transactions")?;
    let mut input = Input::new(meta, rows);
    for piece in pieces {
        input.gathered.add(&piece?, &input.names, true)?;
    }
    compute(input, params, progress)
}

/// The features stage's input gathered from a clean table's batches as
/// they are made, in memory: the clean stage of `etl run` hands it to the
/// features stage, which then does not read the table back.
pub struct Input {
    meta: TableMeta,
    names: Names,
    gathered: Gathered,
}

impl Input {
    /// An empty input for a clean table with `meta`, with room for `rows`
    /// rows (room not used costs address space, not memory).
    pub fn new(meta: &TableMeta, rows: usize) -> Input {
        let is_absent = |canonical: &str| meta.absent.iter().any(|a| a == canonical);
        let interner = || Interner {
            ids: Vec::with_capacity(rows),
            ..Interner::default()
        };
        Input {
            meta: meta.clone(),
            names: match meta.preset {
                Preset::Standard => STANDARD_NAMES,
                Preset::Parity => PARITY_NAMES,
            },
            gathered: Gathered {
                customers: interner(),
                invoices: (!is_absent("invoice_id")).then(interner),
                products: (!is_absent("product_id")).then(interner),
                countries: (!is_absent("country")).then(interner),
                dates: Vec::with_capacity(rows),
                qty: Vec::with_capacity(rows),
                price: Vec::with_capacity(rows),
                total: Vec::with_capacity(rows),
            },
        }
    }

    /// Adds a batch of the clean table's rows (in the table's order), on
    /// the calling thread.
    pub fn add(&mut self, batch: &DataFrame) -> Result<()> {
        self.gathered.add(batch, &self.names, false)
    }

    /// Rows added so far.
    pub fn rows(&self) -> usize {
        self.gathered.dates.len()
    }
}

/// [`features`] on an input gathered as the clean table was made: the same
/// table and report as [`features_from`] on that table.
pub fn features_of(
    input: Input,
    params: FeatureParams,
    progress: &dyn Progress,
) -> Result<(DataFrame, TableMeta, FeatureReport)> {
    check_input(Some(&input.meta), params)?;
    compute(input, params, progress)
}

/// The clean table's metadata, when the stage can run on it with `params`.
fn check_input(meta: Option<&TableMeta>, params: FeatureParams) -> Result<&TableMeta> {
    let meta = meta.ok_or_else(|| {
        Error::WrongInput("this file is not a clean table written by Tablero (no tablero metadata); run `etl clean` first".into())
    })?;
    if meta.kind != "clean" {
        return Err(Error::WrongInput(format!(
            "this is a {} table, not a clean table; give the key of a clean transactions table",
            meta.kind
        )));
    }
    if meta.preset != params.preset {
        return Err(Error::WrongInput(format!(
            "this clean table was made with --preset {}; features --preset {} needs a clean table made with \
             --preset {} (run `etl clean RAW_KEY --preset {}` or use --preset {})",
            meta.preset.name(),
            params.preset.name(),
            params.preset.name(),
            params.preset.name(),
            meta.preset.name()
        )));
    }
    if params.horizon_days == 0 {
        return Err(Error::InvalidParameter(
            "--horizon-days must be at least 1".into(),
        ));
    }
    Ok(meta)
}

fn compute(
    input: Input,
    params: FeatureParams,
    progress: &dyn Progress,
) -> Result<(DataFrame, TableMeta, FeatureReport)> {
    let Input { meta, gathered, .. } = input;
    let meta = &meta;
    let Gathered {
        customers,
        invoices,
        products,
        countries,
        dates,
        qty,
        price,
        total,
    } = gathered;
    let n = dates.len();
    if n == 0 {
        return Err(Error::WrongInput(
            "the clean table has no rows: nothing to build features from".into(),
        ));
    }
    // Only the customers' and countries' names are needed from here on.
    let (cust_ids, cust_names) = (customers.ids, customers.names);
    let invoices = invoices.map(|i| i.ids);
    let products = products.map(|p| p.ids);
    let countries = countries.map(|k| (k.ids, k.names));
    let cust_names: Vec<&str> = cust_names.iter().map(|s| &**s).collect();
    let country_names: Option<Vec<&str>> = countries
        .as_ref()
        .map(|(_, names)| names.iter().map(|s| &**s).collect());

    let (cutoff, cutoff_source) = match params.cutoff {
        Some(c) => (c, "given"),
        None => {
            let mut scratch = dates.clone();
            (
                stats::quantile_ns(&mut scratch, 0.7).unwrap_or(i64::MIN),
                "0.7 quantile of invoice timestamps",
            )
        }
    };
    let horizon_end = cutoff.saturating_add(params.horizon_days as i64 * DAY_NS);
    let max_date = dates.iter().copied().max().unwrap_or(cutoff);
    let analysis_date = match params.preset {
        Preset::Parity => max_date,
        Preset::Standard => cutoff,
    };
    progress.update(0.2, "grouping by customer")?;

    // Rows per customer, in row order (the order pandas sums in).
    let nc = cust_names.len();
    let mut starts = vec![0usize; nc + 1];
    for &c in &cust_ids {
        starts[c as usize + 1] += 1;
    }
    for i in 0..nc {
        starts[i + 1] += starts[i];
    }
    let mut fill = starts.clone();
    let mut rows_of = vec![0usize; n];
    for (row, &c) in cust_ids.iter().enumerate() {
        rows_of[fill[c as usize]] = row;
        fill[c as usize] += 1;
    }

    // Customers sorted as pandas' groupby sorts them: numerically when every
    // id is a number (the pipeline read ids as floats), else as text.
    let numeric: Option<Vec<f64>> = cust_names.iter().map(|s| s.parse::<f64>().ok()).collect();
    let mut order: Vec<usize> = (0..nc).collect();
    match &numeric {
        Some(v) => {
            order.sort_by(|&a, &b| v[a].total_cmp(&v[b]).then(cust_names[a].cmp(cust_names[b])))
        }
        None => order.sort_by(|&a, &b| cust_names[a].cmp(cust_names[b])),
    }

    let inputs = Inputs {
        dates: &dates,
        cutoff,
        horizon_end,
        analysis_date,
        preset: params.preset,
        invoices: invoices.as_deref(),
        products: products.as_deref(),
        countries: countries
            .as_ref()
            .zip(country_names.as_ref())
            .map(|((ids, _), names)| (ids.as_slice(), names.as_slice())),
        qty: &qty,
        price: &price,
        total: &total,
    };
    let rows_of_customer = |c: usize| &rows_of[starts[c]..starts[c + 1]];
    // Customers are independent: half of them on another thread.
    let (mine, theirs) = order.split_at(order.len() / 2);
    let mut aggs = vec![Agg::default(); nc];
    let computed = std::thread::scope(|s| -> Result<Vec<(usize, Agg)>> {
        let other = s.spawn(|| {
            let mut bufs = Bufs::default();
            theirs
                .iter()
                .map(|&c| {
                    let mut a = Agg::default();
                    customer_agg(rows_of_customer(c), &inputs, &mut bufs, &mut a);
                    (c, a)
                })
                .collect::<Vec<_>>()
        });
        let mut bufs = Bufs::default();
        for (done, &c) in mine.iter().enumerate() {
            if done % 512 == 0 {
                progress.update(
                    0.2 + 0.6 * done as f64 / mine.len().max(1) as f64,
                    "computing customer features",
                )?;
            }
            customer_agg(rows_of_customer(c), &inputs, &mut bufs, &mut aggs[c]);
        }
        Ok(other
            .join()
            .unwrap_or_else(|e| std::panic::resume_unwind(e)))
    })?;
    for (c, a) in computed {
        aggs[c] = a;
    }
    progress.update(0.85, "scoring")?;

    // Scores over the RFM table: every customer for parity (scores are
    // computed before the join with the target), in-scope ones for standard.
    let scored: Vec<usize> = order
        .iter()
        .copied()
        .filter(|&c| params.preset == Preset::Parity || aggs[c].in_scope)
        .collect();
    let mut warnings = Vec::new();
    let recency: Vec<f64> = scored.iter().map(|&c| aggs[c].recency as f64).collect();
    let frequency: Vec<f64> = scored.iter().map(|&c| aggs[c].frequency as f64).collect();
    let monetary: Vec<f64> = scored.iter().map(|&c| aggs[c].monetary).collect();
    let r_bins = quintiles(&recency, "Recency", &mut warnings);
    let f_bins = quintiles(&stats::rank_first(&frequency), "Frequency", &mut warnings);
    let m_bins = quintiles(&stats::rank_first(&monetary), "Monetary", &mut warnings);
    let mut scores: FxHashMap<usize, (i64, i64, i64)> = FxHashMap::default();
    for (i, &c) in scored.iter().enumerate() {
        scores.insert(
            c,
            (
                5 - r_bins[i] as i64,
                f_bins[i] as i64 + 1,
                m_bins[i] as i64 + 1,
            ),
        );
    }

    // The output: customers with an invoice at or before the cut-off.
    let out: Vec<usize> = order
        .iter()
        .copied()
        .filter(|&c| aggs[c].in_scope)
        .collect();
    if out.is_empty() {
        return Err(Error::InvalidParameter(format!(
            "no customer has an invoice at or before the cut-off {}; choose a later --cutoff",
            dates::format_ns(cutoff)
        )));
    }
    let get = |f: &dyn Fn(&Agg) -> i64| out.iter().map(|&c| f(&aggs[c])).collect::<Vec<i64>>();
    let getf = |f: &dyn Fn(&Agg) -> f64| out.iter().map(|&c| f(&aggs[c])).collect::<Vec<f64>>();
    let sc = |k: usize| {
        out.iter()
            .map(|c| {
                let s = scores.get(c).copied().unwrap_or((0, 0, 0));
                [s.0, s.1, s.2][k]
            })
            .collect::<Vec<i64>>()
    };
    let (r, f, m) = (sc(0), sc(1), sc(2));
    let rfm: Vec<String> = (0..out.len())
        .map(|i| format!("{}{}{}", r[i], f[i], m[i]))
        .collect();
    let seg: Vec<&str> = (0..out.len()).map(|i| segment(r[i], f[i], m[i])).collect();
    let country: Vec<Option<String>> = out.iter().map(|&c| aggs[c].country.clone()).collect();
    let variety: Vec<Option<i64>> = out.iter().map(|&c| aggs[c].variety).collect();
    let target = get(&|a| a.target);
    let positives = target.iter().filter(|&&t| t == 1).count() as u64;

    let columns = vec![
        Column::new(
            "CustomerID".into(),
            out.iter().map(|&c| cust_names[c]).collect::<Vec<_>>(),
        ),
        Column::new("Recency".into(), get(&|a| a.recency)),
        Column::new("Frequency".into(), get(&|a| a.frequency)),
        Column::new("Monetary".into(), getf(&|a| a.monetary)),
        Column::new(
            "AvgOrderValue".into(),
            getf(&|a| a.monetary / a.frequency as f64),
        ),
        Column::new("DaysActive".into(), get(&|a| a.days_active)),
        Column::new("TotalQuantity".into(), getf(&|a| a.total_qty)),
        Column::new("AvgQuantity".into(), getf(&|a| a.avg_qty)),
        Column::new("StdQuantity".into(), getf(&|a| a.std_qty)),
        Column::new("AvgUnitPrice".into(), getf(&|a| a.avg_price)),
        Column::new("StdUnitPrice".into(), getf(&|a| a.std_price)),
        Column::new("MostFrequentCountry".into(), country),
        Column::new("ProductVariety".into(), variety),
        Column::new("R_Score".into(), r),
        Column::new("F_Score".into(), f),
        Column::new("M_Score".into(), m),
        Column::new("RFM_Score".into(), rfm),
        Column::new("Customer_Segment".into(), seg),
        Column::new(TARGET.into(), target),
        Column::new("UniquePurchaseDays".into(), get(&|a| a.unique_ts)),
        Column::new("CustomerAge_Days".into(), get(&|a| a.age_days)),
        Column::new("ActivityPeriod_Days".into(), get(&|a| a.activity_days)),
        Column::new("UniqueYears".into(), get(&|a| a.years)),
        Column::new("UniqueMonths".into(), get(&|a| a.months)),
        Column::new("PreferredDayOfWeek".into(), get(&|a| a.weekday)),
        Column::new("UniqueQuarters".into(), get(&|a| a.quarters)),
        Column::new(
            "AvgDaysBetweenPurchases".into(),
            getf(&|a| {
                if a.unique_ts > 1 {
                    a.activity_days as f64 / (a.unique_ts - 1) as f64
                } else {
                    0.0
                }
            }),
        ),
    ];
    let df = DataFrame::new(out.len(), columns)?;
    progress.update(0.95, "summarising")?;

    let mut null_features = Vec::new();
    if countries.is_none() {
        null_features.push(NullFeature {
            feature: "MostFrequentCountry".into(),
            needs: "country".into(),
        });
    }
    if products.is_none() {
        null_features.push(NullFeature {
            feature: "ProductVariety".into(),
            needs: "product_id".into(),
        });
    }
    if invoices.is_none() {
        warnings.push("no invoice column: each row counts as one order (Frequency = rows)".into());
    }
    let cutoff_text = dates::format_ns(cutoff);
    let meta = TableMeta {
        kind: "features".into(),
        preset: params.preset,
        schema_version: 1,
        absent: meta.absent.clone(),
        roles: Some(FeatureRoles {
            identifiers: vec!["CustomerID".into()],
            target: TARGET.into(),
            categorical: vec!["MostFrequentCountry".into(), "Customer_Segment".into()],
            not_features: vec!["RFM_Score".into()],
            cutoff: cutoff_text.clone(),
            horizon_days: params.horizon_days,
        }),
    };
    let report = FeatureReport {
        preset: params.preset.name().into(),
        rows_in: n as u64,
        customers: out.len() as u64,
        positives,
        negatives: out.len() as u64 - positives,
        cutoff: cutoff_text,
        cutoff_source: cutoff_source.into(),
        horizon_days: params.horizon_days,
        target: TARGET.into(),
        null_features,
        warnings,
        columns: table::summarise(&df, true)?,
    };
    Ok((df, meta, report))
}

/// What every customer's features are computed from.
struct Inputs<'a> {
    dates: &'a [i64],
    cutoff: i64,
    horizon_end: i64,
    analysis_date: i64,
    preset: Preset,
    invoices: Option<&'a [u32]>,
    products: Option<&'a [u32]>,
    countries: Option<(&'a [u32], &'a [&'a str])>,
    qty: &'a [f64],
    price: &'a [f64],
    total: &'a [f64],
}

/// Scratch space reused from one customer to the next.
#[derive(Default)]
struct Bufs {
    ids: Vec<u32>,
    ts: Vec<i64>,
    small: Vec<u32>,
}

/// One customer's aggregates from its rows (indices, in row order).
fn customer_agg(rows: &[usize], inp: &Inputs, bufs: &mut Bufs, a: &mut Agg) {
    a.in_scope = rows.iter().any(|&r| inp.dates[r] <= inp.cutoff);
    a.target = i64::from(
        rows.iter()
            .any(|&r| inp.dates[r] > inp.cutoff && inp.dates[r] <= inp.horizon_end),
    );
    let rfm_rows: Vec<usize> = match inp.preset {
        Preset::Parity => rows.to_vec(),
        Preset::Standard => rows
            .iter()
            .copied()
            .filter(|&r| inp.dates[r] <= inp.cutoff)
            .collect(),
    };
    if rfm_rows.is_empty() {
        return;
    }
    let first = rfm_rows
        .iter()
        .map(|&r| inp.dates[r])
        .min()
        .unwrap_or(inp.cutoff);
    let last = rfm_rows
        .iter()
        .map(|&r| inp.dates[r])
        .max()
        .unwrap_or(inp.cutoff);
    a.recency = dates::whole_days(last, inp.analysis_date);
    a.days_active = dates::whole_days(first, last);
    a.frequency = match inp.invoices {
        Some(ids) => distinct(rfm_rows.iter().map(|&r| ids[r]), &mut bufs.ids) as i64,
        None => rfm_rows.len() as i64,
    };
    let (mut m, mut q, mut p) = (
        KahanSum::default(),
        KahanSum::default(),
        KahanSum::default(),
    );
    let (mut wq, mut wp) = (Welford::default(), Welford::default());
    for &r in &rfm_rows {
        m.add(inp.total[r]);
        q.add(inp.qty[r]);
        p.add(inp.price[r]);
        wq.add(inp.qty[r]);
        wp.add(inp.price[r]);
    }
    let count = rfm_rows.len() as f64;
    a.monetary = m.value();
    a.total_qty = q.value();
    a.avg_qty = q.value() / count;
    a.std_qty = wq.sample_std().unwrap_or(0.0);
    a.avg_price = p.value() / count;
    a.std_price = wp.sample_std().unwrap_or(0.0);
    a.variety = inp
        .products
        .map(|ids| distinct(rfm_rows.iter().map(|&r| ids[r]), &mut bufs.ids) as i64);
    a.country = inp.countries.map(|(ids, names)| {
        bufs.small.clear();
        bufs.small.extend(rfm_rows.iter().map(|&r| ids[r]));
        mode_by(&mut bufs.small, |x, y| {
            names[*x as usize].cmp(names[*y as usize])
        })
        .map(|id| names[id as usize].to_string())
        .unwrap_or_default()
    });

    // Temporal features: rows at or before the cut-off only.
    bufs.ts.clear();
    bufs.ts.extend(
        rows.iter()
            .map(|&r| inp.dates[r])
            .filter(|&d| d <= inp.cutoff),
    );
    if bufs.ts.is_empty() {
        return;
    }
    let tfirst = *bufs.ts.iter().min().unwrap_or(&inp.cutoff);
    let tlast = *bufs.ts.iter().max().unwrap_or(&inp.cutoff);
    a.age_days = dates::whole_days(tfirst, inp.cutoff);
    a.activity_days = dates::whole_days(tfirst, tlast);
    let civil: Vec<(i64, u32, u32)> = bufs
        .ts
        .iter()
        .map(|&d| dates::civil_from_days(dates::day_of(d)))
        .collect();
    a.years = distinct(civil.iter().map(|c| c.0 as u32), &mut bufs.ids) as i64;
    a.months = distinct(civil.iter().map(|c| c.1), &mut bufs.ids) as i64;
    a.quarters = distinct(civil.iter().map(|c| (c.1 - 1) / 3), &mut bufs.ids) as i64;
    bufs.small.clear();
    bufs.small
        .extend(bufs.ts.iter().map(|&d| dates::weekday(d)));
    a.weekday = mode_by(&mut bufs.small, |x, y| x.cmp(y)).unwrap_or(0) as i64;
    bufs.ts.sort_unstable();
    bufs.ts.dedup();
    a.unique_ts = bufs.ts.len() as i64;
}

/// Number of distinct values.
fn distinct(values: impl Iterator<Item = u32>, buf: &mut Vec<u32>) -> usize {
    buf.clear();
    buf.extend(values);
    buf.sort_unstable();
    buf.dedup();
    buf.len()
}

/// Most frequent value; ties go to the smallest by `cmp` (pandas `mode()[0]`).
fn mode_by(values: &mut [u32], cmp: impl Fn(&u32, &u32) -> std::cmp::Ordering) -> Option<u32> {
    values.sort_unstable();
    let mut best: Option<(usize, u32)> = None;
    let mut i = 0;
    while i < values.len() {
        let mut j = i;
        while j < values.len() && values[j] == values[i] {
            j += 1;
        }
        let count = j - i;
        best = match best {
            None => Some((count, values[i])),
            Some((bc, bv)) if count > bc || (count == bc && cmp(&values[i], &bv).is_lt()) => {
                Some((count, values[i]))
            }
            b => b,
        };
        i = j;
    }
    best.map(|(_, v)| v)
}

/// Quintile bins (0..5) of values as `pd.qcut(values, 5)`; when the edges are
/// not unique (pandas would refuse), bins of `rank(method="first")` instead,
/// with a warning.
fn quintiles(values: &[f64], what: &str, warnings: &mut Vec<String>) -> Vec<usize> {
    if values.is_empty() {
        return Vec::new();
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let edges = stats::quintile_edges(&sorted);
    if stats::edges_unique(&edges) {
        return values.iter().map(|&v| stats::qcut_bin(&edges, v)).collect();
    }
    let ranks = stats::rank_first(values);
    let mut sorted_ranks = ranks.clone();
    sorted_ranks.sort_by(f64::total_cmp);
    let edges = stats::quintile_edges(&sorted_ranks);
    warnings.push(format!(
        "{what} quintile edges were not unique ({} customers); scored by rank instead",
        values.len()
    ));
    ranks.iter().map(|&v| stats::qcut_bin(&edges, v)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments() {
        assert_eq!(segment(5, 5, 5), "Champions");
        assert_eq!(segment(3, 3, 3), "Loyal_Customers");
        assert_eq!(segment(4, 2, 1), "New_Customers");
        assert_eq!(segment(3, 2, 3), "Potential_Loyalists");
        assert_eq!(segment(2, 3, 3), "At_Risk");
        assert_eq!(segment(1, 1, 5), "Cannot_Lose");
        assert_eq!(segment(3, 4, 1), "Price_Sensitive");
        assert_eq!(segment(1, 1, 1), "Others");
    }

    #[test]
    fn mode_ties_go_to_smallest() {
        let mut v = vec![3, 1, 3, 1, 2];
        assert_eq!(mode_by(&mut v, |a, b| a.cmp(b)), Some(1));
        let mut v = vec![4, 4, 1];
        assert_eq!(mode_by(&mut v, |a, b| a.cmp(b)), Some(4));
    }
}
