//! The clean stage (the original pipeline's "preprocessing" step): the
//! rules, in order, each counted with examples; and for the `parity` preset
//! the geographic filter and derived columns of the pipeline it replaces.

use rustc_hash::{FxHashMap, FxHashSet};

use polars::prelude::*;

use crate::error::{Error, Result};
use crate::features;
use crate::ingest::{self, Canonical, IngestSpec, Parsed, Transactions};
use crate::progress::Progress;
use crate::report::{CleanReport, CountryTier, RuleCount};
use crate::rowset::RowHashSet;
use crate::stats;
use crate::strcol::StrCol;
use crate::table::{self, TableMeta};

pub use crate::preset::Preset;

const MAX_EXAMPLES: usize = 5;

/// Rows per row group of a clean table written block by block.
const ROW_GROUP: usize = 128 * 1024;

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
    let mut row_rules = RowRules::new();
    row_rules.unparseable(parsed.unparseable, parsed.unparseable_examples);
    progress.update(0.55, "applying clean rules")?;
    row_rules.repeated = duplicates(&tx.row_hash);
    let mut kept = Vec::with_capacity(tx.len());
    for i in 0..tx.len() {
        if row_rules.keep(i, verdict(&tx, i), &tx) {
            kept.push(i);
        }
    }
    let mut rules = row_rules.into_rules();

    let mut countries = None;
    let mut winsor = None;
    let (rows_out, customers, df, meta) = match preset {
        Preset::Standard => {
            // Straight from the parsed rows to the table's columns.
            let (df, meta) = standard_table(&tx, &kept)?;
            progress.update(0.8, "summarising")?;
            let customers = distinct_customers(kept.iter().map(|&i| tx.customer_id.get(i)));
            (kept.len(), customers, df, meta)
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
            progress.update(0.8, "summarising")?;
            let customers = distinct_customers(tx.customer_id.iter());
            (tx.len(), customers, df, meta)
        }
    };
    let report = CleanReport {
        preset: preset.name().into(),
        ingest: spec.clone(),
        rows_in,
        rows_out: rows_out as u64,
        customers,
        rules,
        countries,
        winsor_limits: winsor,
        columns: {
            // As the block-by-block stage summarises: the same numbers.
            let mut summaries = table::Summaries::default();
            summaries.add(&df)?;
            summaries.finish()
        },
    };
    Ok((df, meta, report))
}

/// The `standard` preset's clean stage on a CSV read block by block
/// ([`ingest::BlockReader`]): the same rules, counts, examples and table as
/// [`clean`], with the table written as Parquet a block at a time, so memory
/// holds a few blocks and one hash per row for the duplicate rule, not the
/// file. `total_bytes` (the file's size) scales the progress.
///
/// The work is split so that little of it waits on file order: parsing,
/// the rules that look at one row, and the candidate rows' columns are
/// done per block on every core; the duplicate rule (which needs every
/// earlier row) runs in file order on the calling thread; the Parquet
/// encoding on a thread of its own.
///
/// Returns the Parquet file's bytes and the report.
///
/// With `gather`, each batch of the table is also added to the features
/// stage's input (made with [`table_meta`]), in the table's order.
pub fn clean_blocks<R: std::io::Read + Send>(
    blocks: ingest::BlockReader<R>,
    total_bytes: u64,
    spec: &IngestSpec,
    progress: &dyn Progress,
    gather: Option<&mut features::Input>,
) -> Result<(Vec<u8>, TableMeta, CleanReport)> {
    let mut row_rules = RowRules::new();
    let mut customers: FxHashSet<Box<str>> = FxHashSet::default();
    let meta = table_meta(Preset::Standard, spec);
    // The schema does not depend on the rows: take it from no rows.
    let (empty, _) = standard_table(&Transactions::default(), &[])?;
    let stop = std::sync::atomic::AtomicBool::new(false);
    progress.update(0.05, "cleaning")?;

    let written = write_table(&meta, &empty, total_bytes, gather, |sink| {
        ingest::parse_blocks(
            blocks,
            spec,
            &stop,
            |_, parsed| candidates(parsed),
            |block: Candidates, read_to| {
                let Candidates {
                    mut parsed,
                    verdicts,
                    rows,
                    mut table,
                } = block;
                row_rules.start_block(&mut parsed, total_bytes, read_to);
                let tx = parsed.rows;
                for (i, &verdict) in verdicts.iter().enumerate() {
                    row_rules.keep(i, verdict, &tx);
                }
                let repeated = &row_rules.repeated;
                // Candidates that repeat an earlier row leave the table.
                if rows.iter().any(|&i| repeated[i]) {
                    let mask: BooleanChunked = rows.iter().map(|&i| !repeated[i]).collect();
                    table = table.filter(&mask)?;
                }
                let mut previous = None;
                for &i in rows.iter().filter(|&&i| !repeated[i]) {
                    let c = tx.customer_id.get(i);
                    // A customer's rows mostly follow each other: look up each run once.
                    if previous != Some(c) && !customers.contains(c) {
                        customers.insert(c.into());
                    }
                    previous = Some(c);
                }
                drop(tx);
                sink.send(table)?;
                let done = if total_bytes == 0 {
                    1.0
                } else {
                    read_to as f64 / total_bytes as f64
                };
                progress.update(0.05 + 0.85 * done.min(1.0), "cleaning")?;
                Ok(())
            },
        )
    });
    let ((), rows_out, out, summaries) = written?;
    if row_rules.rows_in == 0 {
        return Err(ingest::IngestError::NoRows {
            columns: spec.columns.len(),
        }
        .into());
    }
    let report = CleanReport {
        preset: Preset::Standard.name().into(),
        ingest: spec.clone(),
        rows_in: row_rules.rows_in,
        rows_out,
        customers: customers.len() as u64,
        rules: row_rules.into_rules(),
        countries: None,
        winsor_limits: None,
        columns: summaries.finish(),
    };
    Ok((out, meta, report))
}

/// Where a clean stage's table goes as it is made, a batch at a time: to
/// the Parquet writer's thread and, when the features' input is kept
/// (`etl run`), to that input too.
struct TableSink<'g> {
    to_writer: std::sync::mpsc::SyncSender<DataFrame>,
    gather: Option<&'g mut features::Input>,
    rows: u64,
}

impl TableSink<'_> {
    /// The next batch of the table, in the table's order.
    fn send(&mut self, table: DataFrame) -> Result<()> {
        self.rows += table.height() as u64;
        if let Some(input) = self.gather.as_deref_mut() {
            input.add(&table)?;
        }
        // A stopped writer's own error is the one reported.
        self.to_writer
            .send(table)
            .map_err(|_| Error::Parquet("the table writer stopped".into()))
    }
}

/// Runs `make`, whose batches (sent to its [`TableSink`]) are written as
/// one Parquet file on a thread of their own ([`write_batches`]). Returns
/// what `make` returned, the table's rows, the file's bytes and the
/// columns' summaries; the writer's error when it stopped, else `make`'s.
fn write_table<T>(
    meta: &TableMeta,
    empty: &DataFrame,
    raw_bytes: u64,
    gather: Option<&mut features::Input>,
    make: impl FnOnce(&mut TableSink) -> Result<T>,
) -> Result<(T, u64, Vec<u8>, table::Summaries)> {
    let (made, rows, written) = std::thread::scope(|s| {
        let (to_writer, batches) = std::sync::mpsc::sync_channel::<DataFrame>(2);
        let writer = s.spawn(move || write_batches(batches, meta, empty, raw_bytes));
        let mut sink = TableSink {
            to_writer,
            gather,
            rows: 0,
        };
        let made = make(&mut sink);
        let rows = sink.rows;
        drop(sink);
        let written = writer
            .join()
            .unwrap_or_else(|e| std::panic::resume_unwind(e));
        (made, rows, written)
    });
    match (made, written) {
        // The writer's own error explains a stopped writer.
        (Err(Error::Parquet(_)), Err(e)) => Err(e),
        (Err(e), _) | (Ok(_), Err(e)) => Err(e),
        (Ok(made), Ok((out, summaries))) => Ok((made, rows, out, summaries)),
    }
}

/// Writes the tables received as one Parquet file in row groups of
/// [`ROW_GROUP`] rows, summarising their columns on the way. `raw_bytes`,
/// the raw file's size, sizes the output's buffer: a quarter of it (at most
/// 256 MiB), more than a clean table takes (about a tenth of its CSV), so
/// the buffer is not copied as it grows; the room not written to is never
/// touched, so it costs no memory.
fn write_batches(
    batches: std::sync::mpsc::Receiver<DataFrame>,
    meta: &TableMeta,
    empty: &DataFrame,
    raw_bytes: u64,
) -> Result<(Vec<u8>, table::Summaries)> {
    let mut out = Vec::with_capacity(usize::try_from((raw_bytes / 4).min(256 << 20)).unwrap_or(0));
    let mut summaries = table::Summaries::default();
    let mut w = table::TableWriter::new(&mut out, meta, empty)?;
    // Blocks are small; row groups are written at ROW_GROUP rows.
    let mut group = empty.clone();
    for df in batches {
        summaries.add(&df)?;
        group.vstack_mut(&df)?;
        if group.height() >= ROW_GROUP {
            group.rechunk_mut();
            w.write(&group)?;
            group = empty.clone();
        }
    }
    group.rechunk_mut();
    w.write(&group)?;
    w.finish()?;
    if summaries.is_empty() {
        summaries.add(empty)?;
    }
    Ok((out, summaries))
}

/// The metadata of the clean table of a file read with `spec`.
pub fn table_meta(preset: Preset, spec: &IngestSpec) -> TableMeta {
    TableMeta::clean(preset, absent_in(spec))
}

/// Columns a spec lacks among the optional ones (the table's `absent`).
fn absent_in(spec: &IngestSpec) -> Vec<String> {
    [
        Canonical::InvoiceId,
        Canonical::ProductId,
        Canonical::Description,
        Canonical::Country,
    ]
    .into_iter()
    .filter(|&c| {
        spec.column_for(c)
            .is_none_or(|name| !spec.columns.iter().any(|h| h == name))
    })
    .map(|c| c.name().to_string())
    .collect()
}

const NEEDS_COUNTRY: &str =
    "the parity preset needs a country column (its geographic filter keeps countries by region); \
     map one at upload or use --preset standard";

/// The `parity` preset's clean stage on a CSV read block by block, in two
/// passes over the file (`open` gives it from its start each time): the
/// same rules, counts, examples, country tiers, winsorisation limits and
/// table as [`clean`], in memory that holds a few blocks, one hash and one
/// bit per row, and a country id and a price per row the rules keep, not
/// the file.
///
/// The geographic filter keeps a country by its row count and the limits
/// are quantiles of every kept price, so neither is known before the last
/// row: the first pass runs the rules and counts the countries, the second
/// writes the rows both keep. A file whose rows differ between the passes
/// is refused. `gather` as in [`clean_blocks`].
pub fn clean_blocks_parity<R, F>(
    open: F,
    total_bytes: u64,
    spec: &IngestSpec,
    progress: &dyn Progress,
    gather: Option<&mut features::Input>,
) -> Result<(Vec<u8>, TableMeta, CleanReport)>
where
    R: std::io::Read + Send,
    F: Fn() -> Result<ingest::BlockReader<R>>,
{
    let absent = absent_in(spec);
    if absent.iter().any(|a| a == Canonical::Country.name()) {
        return Err(Error::WrongInput(NEEDS_COUNTRY.into()));
    }
    let mut row_rules = RowRules::new();
    // What the first pass learns: the parsed rows of each block, a bit per
    // row the rules keep, and for those their country and price.
    let mut block_rows: Vec<u64> = Vec::new();
    let mut parsed_rows = 0u64;
    let mut kept_bits: Vec<u64> = Vec::new();
    let mut country_of: FxHashMap<Box<str>, u32> = FxHashMap::default();
    let mut names: Vec<Box<str>> = Vec::new();
    let mut counts: Vec<u64> = Vec::new();
    let mut row_country: Vec<u32> = Vec::new();
    let mut row_price: Vec<f64> = Vec::new();
    let stop = std::sync::atomic::AtomicBool::new(false);
    let fraction = |read_to: u64| {
        if total_bytes == 0 {
            1.0
        } else {
            (read_to as f64 / total_bytes as f64).min(1.0)
        }
    };
    progress.update(0.02, "cleaning, pass 1 of 2: rules and countries")?;
    ingest::parse_blocks(
        open()?,
        spec,
        &stop,
        |_, parsed: Parsed| {
            let tx = &parsed.rows;
            let verdicts: Vec<Verdict> = (0..tx.len()).map(|i| verdict(tx, i)).collect();
            Ok((parsed, verdicts))
        },
        |(mut parsed, verdicts): (Parsed, Vec<Verdict>), read_to| {
            row_rules.start_block(&mut parsed, total_bytes, read_to);
            let tx = parsed.rows;
            let country = tx
                .country
                .as_ref()
                .ok_or_else(|| Error::WrongInput(NEEDS_COUNTRY.into()))?;
            let base = parsed_rows;
            parsed_rows += tx.len() as u64;
            block_rows.push(tx.len() as u64);
            kept_bits.resize(parsed_rows.div_ceil(64) as usize, 0);
            let mut previous: Option<(&str, u32)> = None;
            for (i, &v) in verdicts.iter().enumerate() {
                if !row_rules.keep(i, v, &tx) {
                    continue;
                }
                let k = base + i as u64;
                kept_bits[(k >> 6) as usize] |= 1 << (k & 63);
                let c = country.get(i);
                let id = match previous {
                    Some((p, id)) if p == c => id,
                    _ => {
                        let id = match country_of.get(c) {
                            Some(&id) => id,
                            None => {
                                let id = names.len() as u32;
                                country_of.insert(c.into(), id);
                                names.push(c.into());
                                counts.push(0);
                                id
                            }
                        };
                        previous = Some((c, id));
                        id
                    }
                };
                counts[id as usize] += 1;
                row_country.push(id);
                row_price.push(tx.unit_price[i]);
            }
            progress.update(
                0.02 + 0.43 * fraction(read_to),
                "cleaning, pass 1 of 2: rules and countries",
            )?;
            Ok(())
        },
    )?;
    let rows_in = row_rules.rows_in;
    let mut rules = row_rules.into_rules();
    if rows_in == 0 {
        return Err(ingest::IngestError::NoRows {
            columns: spec.columns.len(),
        }
        .into());
    }

    // The geographic filter and the limits, from the whole file.
    let (country_tier, country_region, keep, tiers) = country_verdicts(&names, &counts);
    let prices: Vec<f64> = row_country
        .iter()
        .zip(&row_price)
        .filter(|(c, _)| keep[**c as usize])
        .map(|(_, p)| *p)
        .collect();
    drop((row_country, row_price));
    let limits = winsor_limits(prices);
    let mut offsets = Vec::with_capacity(block_rows.len());
    let mut at = 0u64;
    for &n in &block_rows {
        offsets.push(at);
        at += n;
    }

    let mut geo = geo_rule();
    let mut customers: FxHashSet<Box<str>> = FxHashSet::default();
    let meta = TableMeta::clean(Preset::Parity, absent);
    let empty_tx = Transactions {
        country: Some(StrCol::default()),
        ..Default::default()
    };
    let (empty, _) = parity_table_with(&empty_tx, &[], &[], &[], limits)?;
    let changed = || {
        Error::WrongInput(
            "the raw object changed while it was cleaned (its rows differ between the two passes); run the job again"
                .into(),
        )
    };
    progress.update(0.45, "cleaning, pass 2 of 2: writing the table")?;
    let written = write_table(&meta, &empty, total_bytes, gather, |sink| {
        let (country_of, keep, country_tier, country_region) =
            (&country_of, &keep, &country_tier, &country_region);
        let (offsets, block_rows, kept_bits) = (&offsets, &block_rows, &kept_bits);
        ingest::parse_blocks(
            open()?,
            spec,
            &stop,
            |i, parsed: Parsed| {
                let tx = &parsed.rows;
                if block_rows.get(i) != Some(&(tx.len() as u64)) {
                    return Err(changed());
                }
                let base = offsets[i];
                let country = tx.country.as_ref().ok_or_else(changed)?;
                let (mut rows, mut ids, mut removed) = (Vec::new(), Vec::new(), Vec::new());
                for j in 0..tx.len() {
                    let k = base + j as u64;
                    if kept_bits[(k >> 6) as usize] >> (k & 63) & 1 == 0 {
                        continue;
                    }
                    let id = *country_of.get(country.get(j)).ok_or_else(changed)?;
                    if keep[id as usize] {
                        rows.push(j);
                        ids.push(id);
                    } else {
                        removed.push(j);
                    }
                }
                let examples: Vec<_> = removed
                    .iter()
                    .take(MAX_EXAMPLES)
                    .map(|&j| tx.example(j, None))
                    .collect();
                let mut block_customers: Vec<Box<str>> = Vec::new();
                for &j in &rows {
                    let c = tx.customer_id.get(j);
                    if block_customers.last().is_none_or(|p| &**p != c) {
                        block_customers.push(c.into());
                    }
                }
                let kept = tx.take(&rows);
                let (table, _) =
                    parity_table_with(&kept, &ids, country_tier, country_region, limits)?;
                Ok((table, removed.len() as u64, examples, block_customers))
            },
            |(table, removed, examples, block_customers), read_to| {
                geo.removed += removed;
                for e in examples {
                    if geo.examples.len() < MAX_EXAMPLES {
                        geo.examples.push(e);
                    }
                }
                for c in block_customers {
                    customers.insert(c);
                }
                sink.send(table)?;
                progress.update(
                    0.45 + 0.45 * fraction(read_to),
                    "cleaning, pass 2 of 2: writing the table",
                )?;
                Ok(())
            },
        )
    });
    let ((), rows_out, out, summaries) = written?;
    let report = CleanReport {
        preset: Preset::Parity.name().into(),
        ingest: spec.clone(),
        rows_in,
        rows_out,
        customers: customers.len() as u64,
        rules: {
            rules.push(geo);
            rules
        },
        countries: Some(tiers),
        winsor_limits: Some(limits),
        columns: summaries.finish(),
    };
    Ok((out, meta, report))
}

/// The geographic filter's rule.
fn geo_rule() -> RuleCount {
    rule(
        "geographic_filter",
        "parity: country not of tier 1-2 (>= 100 rows) in Europe, Asia-Pacific or the Americas",
    )
}

/// The geographic filter's verdict on each country from its rows: tier,
/// region, whether it is kept; and the report's table of them, most rows
/// first.
fn country_verdicts<S: AsRef<str>>(
    names: &[S],
    counts: &[u64],
) -> (Vec<i64>, Vec<&'static str>, Vec<bool>, Vec<CountryTier>) {
    let tier: Vec<i64> = counts.iter().map(|&r| i64::from(tier_of(r))).collect();
    let region: Vec<&'static str> = names.iter().map(|c| region_of(c.as_ref())).collect();
    let keep: Vec<bool> = (0..names.len())
        .map(|c| tier[c] <= 2 && region[c] != "Other")
        .collect();
    let mut tiers: Vec<CountryTier> = (0..names.len())
        .map(|c| CountryTier {
            country: names[c].as_ref().to_string(),
            rows: counts[c],
            tier: tier_of(counts[c]),
            region: region[c].into(),
            kept: keep[c],
        })
        .collect();
    tiers.sort_by(|a, b| b.rows.cmp(&a.rows).then(a.country.cmp(&b.country)));
    (tier, region, keep, tiers)
}

/// The rules every preset runs first, in order (unparseable, duplicate,
/// missing customer, cancellation, non-positive), over a file's rows in
/// order: their counts and first examples, and the duplicate rule's set.
struct RowRules {
    unparseable: RuleCount,
    dup: RuleCount,
    missing: RuleCount,
    cancel: RuleCount,
    nonpos: RuleCount,
    seen: RowHashSet,
    /// Whether each row of the current block repeats an earlier row.
    repeated: Vec<bool>,
    /// Data rows read so far.
    rows_in: u64,
}

impl RowRules {
    fn new() -> RowRules {
        RowRules {
            unparseable: rule(
                "unparseable",
                "a required value (date, quantity, price) could not be parsed",
            ),
            dup: rule("duplicate", "exact duplicate of an earlier row"),
            missing: rule("missing_customer_id", "no customer id"),
            cancel: rule("cancellation", "invoice id starts with C (a cancellation)"),
            nonpos: rule("non_positive", "quantity <= 0 or unit price <= 0"),
            seen: RowHashSet::default(),
            repeated: Vec::new(),
            rows_in: 0,
        }
    }

    fn unparseable(&mut self, removed: u64, examples: Vec<crate::report::RowExample>) {
        self.unparseable.removed += removed;
        for e in examples {
            if self.unparseable.examples.len() < MAX_EXAMPLES {
                self.unparseable.examples.push(e);
            }
        }
    }

    /// Takes the next block: counts its rows and those that did not parse,
    /// and marks which of its rows repeat an earlier one.
    fn start_block(&mut self, parsed: &mut Parsed, total_bytes: u64, read_to: u64) {
        self.rows_in += parsed.rows_read;
        let examples = std::mem::take(&mut parsed.unparseable_examples);
        self.unparseable(parsed.unparseable, examples);
        let tx = &parsed.rows;
        if self.seen.is_empty() && read_to > 0 {
            // Room for the whole file's rows at this block's bytes per
            // row, so the set is not rebuilt as it grows.
            let estimate = tx.len() as f64 * total_bytes as f64 / read_to as f64;
            self.seen.reserve((estimate * 1.05) as usize);
        }
        self.repeated.clear();
        self.seen.insert_all(&tx.row_hash, &mut self.repeated);
    }

    /// Whether row `i` of the block is kept; if not, it is counted under
    /// the rule that removes it.
    fn keep(&mut self, i: usize, verdict: Verdict, tx: &Transactions) -> bool {
        let hit = rule_for(
            self.repeated[i],
            verdict,
            [
                &mut self.dup,
                &mut self.missing,
                &mut self.cancel,
                &mut self.nonpos,
            ],
        );
        match hit {
            Some(r) => {
                r.removed += 1;
                if r.examples.len() < MAX_EXAMPLES {
                    r.examples.push(tx.example(i, None));
                }
                false
            }
            None => true,
        }
    }

    fn into_rules(self) -> Vec<RuleCount> {
        vec![
            self.unparseable,
            self.dup,
            self.missing,
            self.cancel,
            self.nonpos,
        ]
    }
}

/// What the rules that look at one row say of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Kept,
    MissingCustomer,
    Cancellation,
    NonPositive,
}

/// A block's rows with their one-row verdicts, and the table of the rows
/// those keep (before the duplicate rule).
struct Candidates {
    parsed: Parsed,
    verdicts: Vec<Verdict>,
    rows: Vec<usize>,
    table: DataFrame,
}

/// The rule that removes a row, in the rules' order (`rules`: duplicate,
/// missing customer, cancellation, non-positive); `None` when it is kept.
fn rule_for(
    repeated: bool,
    verdict: Verdict,
    rules: [&mut RuleCount; 4],
) -> Option<&mut RuleCount> {
    let [dup, missing, cancel, nonpos] = rules;
    match (repeated, verdict) {
        (true, _) => Some(dup),
        (false, Verdict::Kept) => None,
        (false, Verdict::MissingCustomer) => Some(missing),
        (false, Verdict::Cancellation) => Some(cancel),
        (false, Verdict::NonPositive) => Some(nonpos),
    }
}

fn verdict(tx: &Transactions, i: usize) -> Verdict {
    if tx.customer_id.get(i).is_empty() {
        Verdict::MissingCustomer
    } else if tx
        .invoice_id
        .as_ref()
        .is_some_and(|c| c.get(i).starts_with('C'))
    {
        Verdict::Cancellation
    } else if !(tx.quantity[i] > 0.0 && tx.unit_price[i] > 0.0) {
        Verdict::NonPositive
    } else {
        Verdict::Kept
    }
}

fn candidates(parsed: Parsed) -> Result<Candidates> {
    let tx = &parsed.rows;
    let verdicts: Vec<Verdict> = (0..tx.len()).map(|i| verdict(tx, i)).collect();
    let rows: Vec<usize> = (0..tx.len())
        .filter(|&i| verdicts[i] == Verdict::Kept)
        .collect();
    let (table, _) = standard_table_on(tx, &rows, false)?;
    Ok(Candidates {
        parsed,
        verdicts,
        rows,
        table,
    })
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

/// Whether each row repeats an earlier row (by its hash).
fn duplicates(hashes: &[u128]) -> Vec<bool> {
    let mut repeated = Vec::with_capacity(hashes.len());
    RowHashSet::default().insert_all(hashes, &mut repeated);
    repeated
}

fn distinct_customers<'a>(ids: impl Iterator<Item = &'a str>) -> u64 {
    ids.collect::<FxHashSet<_>>().len() as u64
}

/// A text column of the rows at `rows` (all-null when the file has none).
fn text_column(name: &str, col: Option<&StrCol>, rows: &[usize]) -> Column {
    match col {
        Some(c) => StringChunked::from_iter_values(name.into(), rows.iter().map(|&i| c.get(i)))
            .into_column(),
        None => Column::full_null(name.into(), rows.len(), &DataType::String),
    }
}

fn standard_table(tx: &Transactions, rows: &[usize]) -> Result<(DataFrame, TableMeta)> {
    standard_table_on(tx, rows, true)
}

/// The standard table of the rows at `rows`; with `threaded`, the text
/// columns (the costly ones) are built on two threads.
fn standard_table_on(
    tx: &Transactions,
    rows: &[usize],
    threaded: bool,
) -> Result<(DataFrame, TableMeta)> {
    let n = rows.len();
    let f = |v: &[f64]| rows.iter().map(|&i| v[i]).collect::<Vec<f64>>();
    let pair = || {
        [
            text_column("invoice_id", tx.invoice_id.as_ref(), rows),
            text_column("product_id", tx.product_id.as_ref(), rows),
        ]
    };
    let rest = || {
        [
            text_column("description", tx.description.as_ref(), rows),
            text_column("country", tx.country.as_ref(), rows),
            text_column("customer_id", Some(&tx.customer_id), rows),
        ]
    };
    let ([invoice, product], [description, country, customer]) = if threaded {
        std::thread::scope(|s| {
            let other = s.spawn(pair);
            let rest = rest();
            (
                other
                    .join()
                    .unwrap_or_else(|e| std::panic::resume_unwind(e)),
                rest,
            )
        })
    } else {
        (pair(), rest())
    };
    let dates: Vec<i64> = rows.iter().map(|&i| tx.invoice_date[i]).collect();
    let columns = vec![
        invoice,
        product,
        description,
        Column::new("quantity".into(), f(&tx.quantity)),
        datetime_column("invoice_date", &dates)?,
        Column::new("unit_price".into(), f(&tx.unit_price)),
        customer,
        country,
        Column::new("amount".into(), f(&tx.amount)),
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
    let country = tx
        .country
        .as_ref()
        .ok_or_else(|| Error::WrongInput(NEEDS_COUNTRY.into()))?;
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
    let (country_tier, country_region, keep, tiers) = country_verdicts(&names, &counts);
    let mut rule = geo_rule();
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
    let limits = winsor_limits(tx.unit_price.clone());
    let (df, meta) = parity_table_with(tx, country_ids, country_tier, country_region, limits)?;
    Ok((df, meta, limits))
}

/// The winsorisation limits: the 1% and 99% quantiles of the unit prices.
fn winsor_limits(mut prices: Vec<f64>) -> (f64, f64) {
    if prices.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    prices.sort_by(f64::total_cmp);
    (
        stats::quantile_sorted(&prices, 0.01),
        stats::quantile_sorted(&prices, 0.99),
    )
}

/// The parity table of `tx` (rows the geographic filter kept), with the
/// winsorisation limits of all of them.
fn parity_table_with(
    tx: &Transactions,
    country_ids: &[u32],
    country_tier: &[i64],
    country_region: &[&'static str],
    (lo, hi): (f64, f64),
) -> Result<(DataFrame, TableMeta)> {
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
    Ok((df, TableMeta::clean(Preset::Parity, absent(tx))))
}
