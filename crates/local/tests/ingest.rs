//! Uploads through a real workspace (folders + SQLite): every ingestion
//! variant users send, and a corpus of bad files that must be refused with a
//! specific message while leaving the workspace exactly as it was.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use std::sync::Arc;
use tablero_core::clean::Preset;
use tablero_core::ingest::{parse_mapping, Canonical, CsvOptions, Encoding, IngestError};

use tablero_app::data::Upload;
use tablero_core::job::{JobRequest, JobStatus};
use tablero_core::ports::{Audit, Backend, BackendError, ErrorKind, JobRunner};
use tablero_core::store::Bucket;
use tablero_core::table;
use tablero_local::Workspace;

struct Fixture {
    _dir: tempfile::TempDir,
    ws: Arc<Workspace>,
    b: Backend,
    files: PathBuf,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let ws = Arc::new(Workspace::init(&dir.path().join("ws")).unwrap());
    let b = Workspace::backend(&ws);
    let files = dir.path().join("files");
    std::fs::create_dir_all(&files).unwrap();
    Fixture {
        _dir: dir,
        ws,
        b,
        files,
    }
}

impl Fixture {
    /// Uploads a file through the backend, as `data upload` does.
    fn upload(
        &self,
        file: &Path,
        key: Option<&str>,
        opts: &CsvOptions,
        replace: bool,
    ) -> Result<Upload, BackendError> {
        tablero_app::data::upload(&self.b, file, key, opts, replace, &|_, _| {}, &|| false)
    }

    fn file(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.files.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }

    /// Every file under the workspace except the database, with its hash.
    fn snapshot(&self) -> BTreeMap<String, String> {
        fn walk(dir: &Path, base: &Path, out: &mut BTreeMap<String, String>) {
            for e in std::fs::read_dir(dir).unwrap() {
                let p = e.unwrap().path();
                let rel = p.strip_prefix(base).unwrap().display().to_string();
                if p.is_dir() {
                    out.insert(format!("{rel}/"), String::new());
                    walk(&p, base, out);
                } else if !rel.starts_with("tablero.db") {
                    let h: String = Sha256::digest(std::fs::read(&p).unwrap())
                        .iter()
                        .map(|b| format!("{b:02x}"))
                        .collect();
                    out.insert(rel, h);
                }
            }
        }
        let mut out = BTreeMap::new();
        walk(self.ws.root(), self.ws.root(), &mut out);
        out
    }

    fn audit_len(&self) -> usize {
        self.ws.audit_since("1970-01-01T00:00:00Z").unwrap().len()
    }

    fn clean(&self, key: &str) -> (tablero_core::job::Job, Option<table::DataFrame>) {
        let job = self
            .ws
            .submit(JobRequest::Clean {
                raw_key: key.into(),
                preset: Preset::Standard,
                out_key: None,
            })
            .unwrap();
        let job = self.ws.run(&job.id, &|_| {}).unwrap();
        let df = job.output.as_ref().map(|o| {
            let bytes = std::fs::read(
                self.ws
                    .root()
                    .join("buckets")
                    .join(o.bucket.name())
                    .join(&o.key),
            )
            .unwrap();
            table::from_parquet(&bytes).unwrap()
        });
        (job, df)
    }
}

/// The same eight transactions, written the way different users write them.
struct Row {
    invoice: &'static str,
    stock: &'static str,
    desc: &'static str,
    qty: i64,
    date: (i32, u32, u32, u32, u32),
    price: f64,
    customer: &'static str,
    country: &'static str,
}

const ROWS: [Row; 8] = [
    Row {
        invoice: "536365",
        stock: "85123A",
        desc: "WHITE HANGING HEART",
        qty: 6,
        date: (2010, 12, 1, 8, 26),
        price: 2.55,
        customer: "17850",
        country: "United Kingdom",
    },
    Row {
        invoice: "536366",
        stock: "22633",
        desc: "HAND WARMER UNION JACK",
        qty: 6,
        date: (2010, 12, 1, 8, 28),
        price: 1.85,
        customer: "17850",
        country: "United Kingdom",
    },
    Row {
        invoice: "536367",
        stock: "84879",
        desc: "CAFÉ BIRD ORNAMENT",
        qty: 32,
        date: (2010, 12, 1, 8, 34),
        price: 1.69,
        customer: "13047",
        country: "United Kingdom",
    },
    Row {
        invoice: "536370",
        stock: "22728",
        desc: "ALARM CLOCK, PINK",
        qty: 24,
        date: (2010, 12, 1, 8, 45),
        price: 3.75,
        customer: "12583",
        country: "France",
    },
    Row {
        invoice: "C536379",
        stock: "D",
        desc: "Discount",
        qty: -1,
        date: (2010, 12, 1, 9, 41),
        price: 27.5,
        customer: "14527",
        country: "United Kingdom",
    },
    Row {
        invoice: "536381",
        stock: "22719",
        desc: "GUMBALL COAT RACK",
        qty: 36,
        date: (2010, 12, 2, 9, 41),
        price: 1.06,
        customer: "15311",
        country: "United Kingdom",
    },
    Row {
        invoice: "536384",
        stock: "82484",
        desc: "WOOD BLACK BOARD",
        qty: 3,
        date: (2010, 12, 13, 9, 53),
        price: 6.45,
        customer: "18074",
        country: "Germany",
    },
    Row {
        invoice: "536390",
        stock: "22941",
        desc: "CHRISTMAS LIGHTS",
        qty: 2,
        date: (2011, 1, 4, 10, 19),
        price: 8.5,
        customer: "17511",
        country: "Austria",
    },
];

#[derive(Clone, Copy)]
enum DateStyle {
    Iso,
    Us,
    Compact,
}

struct Variant {
    header: &'static [&'static str],
    delimiter: char,
    dates: DateStyle,
    float_ids: bool,
    decimal_comma: bool,
    no_invoice: bool,
    line_total: bool,
}

const REFERENCE_HEADER: &[&str] = &[
    "InvoiceNo",
    "StockCode",
    "Description",
    "Quantity",
    "InvoiceDate",
    "UnitPrice",
    "CustomerID",
    "Country",
];

impl Variant {
    fn reference() -> Variant {
        Variant {
            header: REFERENCE_HEADER,
            delimiter: ',',
            dates: DateStyle::Iso,
            float_ids: true,
            decimal_comma: false,
            no_invoice: false,
            line_total: false,
        }
    }

    fn render(&self) -> String {
        let quote = |s: &str| {
            if s.contains(self.delimiter) || s.contains('"') {
                format!("\"{}\"", s.replace('"', "\"\""))
            } else {
                s.to_string()
            }
        };
        let d = self.delimiter.to_string();
        let mut out = self
            .header
            .iter()
            .map(|h| quote(h))
            .collect::<Vec<_>>()
            .join(&d)
            + "\n";
        for r in &ROWS {
            let (y, m, dd, h, mi) = r.date;
            let date = match self.dates {
                DateStyle::Iso => format!("{y}-{m:02}-{dd:02} {h:02}:{mi:02}:00"),
                DateStyle::Us => format!("{m}/{dd}/{y} {h}:{mi:02}"),
                DateStyle::Compact => format!("{y}{m:02}{dd:02}"),
            };
            let num = |v: f64| {
                let s = format!("{v}");
                if self.decimal_comma {
                    s.replace('.', ",")
                } else {
                    s
                }
            };
            let value = if self.line_total {
                num(r.qty as f64 * r.price)
            } else {
                num(r.price)
            };
            let customer = if self.float_ids {
                format!("{}.0", r.customer)
            } else {
                r.customer.to_string()
            };
            let mut fields = Vec::new();
            if !self.no_invoice {
                fields.push(quote(r.invoice));
            }
            fields.extend([
                quote(r.stock),
                quote(r.desc),
                r.qty.to_string(),
                date,
                quote(&value),
                customer,
                quote(r.country),
            ]);
            out.push_str(&fields.join(&d));
            out.push('\n');
        }
        out
    }
}

fn column_strings(df: &table::DataFrame, name: &str) -> Vec<String> {
    let idx = df
        .get_column_names()
        .iter()
        .position(|c| c.as_str() == name)
        .unwrap();
    table::rows_as_strings(df)
        .into_iter()
        .map(|r| r[idx].clone())
        .collect()
}

fn assert_same_transactions(df: &table::DataFrame, reference: &table::DataFrame, with_time: bool) {
    for col in [
        "customer_id",
        "quantity",
        "product_id",
        "description",
        "country",
    ] {
        assert_eq!(
            column_strings(df, col),
            column_strings(reference, col),
            "column {col}"
        );
    }
    let prices = |d: &table::DataFrame| {
        column_strings(d, "unit_price")
            .iter()
            .map(|s| s.parse::<f64>().unwrap())
            .collect::<Vec<_>>()
    };
    for (a, b) in prices(df).iter().zip(prices(reference)) {
        assert!((a - b).abs() < 1e-12, "unit_price {a} vs {b}");
    }
    let dates = |d: &table::DataFrame| {
        column_strings(d, "invoice_date")
            .into_iter()
            .map(|s| if with_time { s } else { s[..10].to_string() })
            .collect::<Vec<_>>()
    };
    assert_eq!(dates(df), dates(reference));
}

#[test]
fn every_ingestion_variant_reads_as_the_same_transactions() {
    let fx = fixture();
    let reference_csv = Variant::reference().render();
    let up = fx
        .upload(
            &fx.file("reference.csv", reference_csv.as_bytes()),
            None,
            &CsvOptions::default(),
            false,
        )
        .unwrap();
    assert_eq!(up.rows, 8);
    assert_eq!(up.ingest.date_format, "%Y-%m-%d %H:%M:%S");
    let (job, reference) = fx.clean("reference.csv");
    assert_eq!(job.status, JobStatus::Succeeded);
    let reference = reference.unwrap();
    assert_eq!(reference.height(), 7, "the cancellation is dropped");

    let retail_ii: &[&str] = &[
        "Invoice",
        "StockCode",
        "Description",
        "Quantity",
        "InvoiceDate",
        "Price",
        "Customer ID",
        "Country",
    ];
    let no_invoice: &[&str] = &[
        "StockCode",
        "Description",
        "Quantity",
        "InvoiceDate",
        "UnitPrice",
        "CustomerID",
        "Country",
    ];
    let total: &[&str] = &[
        "InvoiceNo",
        "StockCode",
        "Description",
        "Quantity",
        "InvoiceDate",
        "LineTotal",
        "CustomerID",
        "Country",
    ];
    let cases: Vec<(&str, Variant, CsvOptions, bool)> = vec![
        ("retail-ii.csv", Variant { header: retail_ii, float_ids: false, ..Variant::reference() }, CsvOptions::default(), true),
        ("us-dates.csv", Variant { dates: DateStyle::Us, ..Variant::reference() }, CsvOptions::default(), true),
        ("compact-dates.csv", Variant { dates: DateStyle::Compact, ..Variant::reference() }, CsvOptions::default(), false),
        ("semicolon.csv", Variant { delimiter: ';', ..Variant::reference() }, CsvOptions::default(), true),
        ("semicolon-comma.csv", Variant { delimiter: ';', decimal_comma: true, ..Variant::reference() }, CsvOptions::default(), true),
        ("tab.tsv", Variant { delimiter: '\t', ..Variant::reference() }, CsvOptions::default(), true),
        ("no-invoice.csv", Variant { header: no_invoice, no_invoice: true, ..Variant::reference() }, CsvOptions::default(), true),
        ("line-total.csv", Variant { header: total, line_total: true, ..Variant::reference() }, CsvOptions::default(), true),
        (
            "mapped.csv",
            Variant { header: &["Factura", "Articulo", "Descripcion", "Cantidad", "Fecha", "Precio", "Cliente", "Pais"], ..Variant::reference() },
            CsvOptions {
                mapping: parse_mapping(
                    "Factura=invoice_id,Articulo=product_id,Descripcion=description,Cantidad=quantity,\
                     Fecha=invoice_date,Precio=unit_price,Cliente=customer_id,Pais=country",
                )
                .unwrap(),
                ..CsvOptions::default()
            },
            true,
        ),
    ];
    for (name, variant, opts, with_time) in cases {
        let up = fx
            .upload(
                &fx.file(name, variant.render().as_bytes()),
                None,
                &opts,
                false,
            )
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(up.rows, 8, "{name}");
        assert_eq!(up.ingest.delimiter, variant.delimiter.to_string(), "{name}");
        // The mapping is stored with the object.
        let info =
            fx.b.store
                .list(Bucket::Raw, name, None, 10)
                .unwrap()
                .objects
                .remove(0);
        let stored: tablero_core::ingest::IngestSpec =
            serde_json::from_str(&info.metadata["ingest"]).unwrap();
        assert_eq!(stored, up.ingest, "{name}");
        let (job, df) = fx.clean(name);
        assert_eq!(job.status, JobStatus::Succeeded, "{name}: {:?}", job.error);
        let df = df.unwrap();
        assert_eq!(df.height(), 7, "{name}");
        assert_same_transactions(&df, &reference, with_time);
        if name == "no-invoice.csv" {
            let Some(tablero_core::stages::StageReport::Clean(report)) = job.report else {
                panic!("a clean report")
            };
            let rule = |r: &str| report.rules.iter().find(|x| x.rule == r).unwrap().removed;
            assert_eq!(
                (rule("cancellation"), rule("non_positive")),
                (0, 1),
                "no invoice: the discount is non-positive"
            );
        }
        if name == "mapped.csv" {
            assert!(up.ingest.mapping.iter().all(|m| m.how == "given"));
        }
        if name == "retail-ii.csv" {
            assert_eq!(
                up.ingest.column_for(Canonical::CustomerId),
                Some("Customer ID")
            );
            assert_eq!(up.ingest.column_for(Canonical::UnitPrice), Some("Price"));
        }
    }

    // Latin-1: the same file encoded in ISO-8859-1 decodes to the same text.
    let latin1: Vec<u8> = reference_csv
        .chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap())
        .collect();
    assert!(std::str::from_utf8(&latin1).is_err());
    let up = fx
        .upload(
            &fx.file("latin1.csv", &latin1),
            None,
            &CsvOptions::default(),
            false,
        )
        .unwrap();
    assert_eq!(up.ingest.encoding, Encoding::Latin1);
    let (_, df) = fx.clean("latin1.csv");
    assert_same_transactions(&df.unwrap(), &reference, true);
    assert!(column_strings(&reference, "description").contains(&"CAFÉ BIRD ORNAMENT".to_string()));
}

#[test]
fn bad_values_inside_a_valid_file_are_counted_as_unparseable() {
    let fx = fixture();
    let mut csv = Variant::reference().render();
    csv.push_str("536400,X1,BAD DATE,1,31/31/2011 25:00,1.0,17850.0,United Kingdom\n");
    csv.push_str("536401,X2,BAD QTY,lots,2011-01-05 10:00:00,1.0,17850.0,United Kingdom\n");
    let up = fx
        .upload(
            &fx.file("mixed.csv", csv.as_bytes()),
            None,
            &CsvOptions::default(),
            false,
        )
        .unwrap();
    assert_eq!((up.rows, up.unparseable), (10, 2));
    assert_eq!(
        up.unparseable_examples
            .iter()
            .map(|e| e.line)
            .collect::<Vec<_>>(),
        vec![10, 11]
    );
    let (job, df) = fx.clean("mixed.csv");
    let Some(tablero_core::stages::StageReport::Clean(report)) = job.report else {
        panic!("a clean report")
    };
    assert_eq!(report.rules[0].rule, "unparseable");
    assert_eq!(report.rules[0].removed, 2);
    assert_eq!(report.rules[0].examples[1].values["quantity"], "lots");
    assert_eq!(df.unwrap().height(), 7);
    assert_eq!(report.rows_in, 10);
}

/// Uploads `bytes` and returns why it was refused, checking that nothing
/// changed and that the refusal is the validation's (`invalid_input`, with
/// the validation's own message).
fn refused(fx: &Fixture, name: &str, bytes: &[u8], opts: &CsvOptions) -> IngestError {
    let before = fx.snapshot();
    let audit = fx.audit_len();
    let err = fx
        .upload(&fx.file(name, bytes), None, opts, false)
        .unwrap_err();
    assert_eq!(fx.snapshot(), before, "{name}: the workspace changed");
    assert_eq!(fx.audit_len(), audit, "{name}: audit log changed");
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{name}: {err}");
    let why = tablero_core::ingest::inspect(bytes, opts).unwrap_err();
    assert_eq!(err.to_string(), why.to_string(), "{name}");
    why
}

#[test]
fn bad_files_are_refused_with_a_specific_message_and_change_nothing() {
    let fx = fixture();
    let good = Variant::reference().render();
    let header = good.lines().next().unwrap().to_string();
    let d = CsvOptions::default();

    assert_eq!(refused(&fx, "empty.csv", b"", &d), IngestError::Empty);
    assert_eq!(
        refused(&fx, "blank.csv", b"\xEF\xBB\xBF \n\n", &d),
        IngestError::Empty
    );

    let e = refused(&fx, "header.csv", format!("{header}\n").as_bytes(), &d);
    assert_eq!(e, IngestError::NoRows { columns: 8 });
    assert!(e.to_string().contains("no data rows"));

    let no_customer = good.replace("CustomerID", "Shopper");
    let e = refused(&fx, "nocust.csv", no_customer.as_bytes(), &d);
    let msg = e.to_string();
    assert!(
        matches!(&e, IngestError::MissingColumns { missing, .. } if missing == &vec!["customer_id".to_string()])
    );
    assert!(
        msg.contains("customer_id") && msg.contains("Shopper") && msg.contains("--map"),
        "{msg}"
    );

    let semi = Variant {
        delimiter: ';',
        ..Variant::reference()
    }
    .render();
    let e = refused(
        &fx,
        "wrongdelim.csv",
        semi.as_bytes(),
        &CsvOptions {
            delimiter: Some(b','),
            ..d.clone()
        },
    );
    assert!(
        matches!(&e, IngestError::SingleColumn { delimiter, .. } if delimiter == ","),
        "{e}"
    );
    assert!(e.to_string().contains("single column"));
    let e = refused(&fx, "onecol.csv", b"customers\n1\n2\n", &d);
    assert!(matches!(e, IngestError::SingleColumn { .. }));

    let latin1: Vec<u8> = good
        .chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap())
        .collect();
    let offset = latin1.iter().position(|&b| b == 0xC9).unwrap();
    let e = refused(
        &fx,
        "latin1-as-utf8.csv",
        &latin1,
        &CsvOptions {
            encoding: Some(Encoding::Utf8),
            ..d.clone()
        },
    );
    assert_eq!(
        e,
        IngestError::Encoding {
            encoding: "utf-8",
            offset,
            byte: 0xC9
        }
    );
    assert!(e.to_string().contains(&format!("offset {offset}")));
    let mut c1 = good.replace('É', "E").into_bytes();
    c1.extend_from_slice(b"536999,X,BAD \x81 BYTE,1,2011-01-01 10:00:00,1.0,1.0,France\n");
    let e = refused(&fx, "c1.csv", &c1, &d);
    assert!(
        matches!(
            e,
            IngestError::Encoding {
                encoding: "latin-1",
                byte: 0x81,
                ..
            }
        ),
        "{e}"
    );

    let mut ragged = good.clone();
    ragged = ragged.replacen("\n536366,", "\n536366,EXTRA,", 1);
    let e = refused(&fx, "ragged.csv", ragged.as_bytes(), &d);
    assert_eq!(
        e,
        IngestError::Ragged {
            line: 3,
            expected: 8,
            found: 9
        }
    );
    assert!(e.to_string().contains("line 3"));

    let mut no_qty = header.clone() + "\n";
    for i in 0..5 {
        no_qty.push_str(&format!(
            "5{i},A,X,many,2011-01-0{} 10:00:00,1.0,1{i}.0,France\n",
            i + 1
        ));
    }
    let e = refused(&fx, "noqty.csv", no_qty.as_bytes(), &d);
    assert!(
        matches!(&e, IngestError::NoParseableValue { canonical: Canonical::Quantity, column, .. } if column == "Quantity"),
        "{e}"
    );
    assert!(e.to_string().contains("many"));

    let mut no_date = header.clone() + "\n";
    for i in 0..5 {
        no_date.push_str(&format!("5{i},A,X,1,someday,1.0,1{i}.0,France\n"));
    }
    let e = refused(&fx, "nodate.csv", no_date.as_bytes(), &d);
    assert!(
        matches!(
            e,
            IngestError::NoParseableValue {
                canonical: Canonical::InvoiceDate,
                ..
            }
        ),
        "{e}"
    );

    let e = refused(
        &fx,
        "badmap.csv",
        good.as_bytes(),
        &CsvOptions {
            mapping: parse_mapping("Klant=customer_id").unwrap(),
            ..d.clone()
        },
    );
    assert!(e.to_string().contains("no column \"Klant\""), "{e}");

    let e = refused(
        &fx,
        "quote.csv",
        format!("{header}\n1,\"unclosed,1,2011-01-01 10:00:00,1,1,UK\n").as_bytes(),
        &d,
    );
    assert!(
        matches!(
            e,
            IngestError::Ragged { .. } | IngestError::Malformed { .. } | IngestError::NoRows { .. }
        ),
        "{e}"
    );
}

#[test]
fn files_over_the_workspace_limit_are_refused_before_reading() {
    let fx = fixture();
    let cfg = fx.ws.config_path();
    let text = std::fs::read_to_string(&cfg).unwrap();
    let text = text.replace("max_upload_bytes = 0", "max_upload_bytes = 100");
    std::fs::write(&cfg, text).unwrap();
    let before = fx.snapshot();
    let err = fx
        .upload(
            &fx.file("big.csv", Variant::reference().render().as_bytes()),
            None,
            &CsvOptions::default(),
            false,
        )
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Refused, "{err}");
    assert!(
        err.to_string()
            .contains("over the workspace limit of 100 bytes"),
        "{err}"
    );
    assert!(err.to_string().contains("max_upload_bytes"));
    assert_eq!(fx.snapshot(), before);
}

#[test]
fn an_existing_key_is_not_overwritten_unless_replaced() {
    let fx = fixture();
    let path = fx.file("sales.csv", Variant::reference().render().as_bytes());
    fx.upload(&path, None, &CsvOptions::default(), false)
        .unwrap();
    let err = fx
        .upload(&path, None, &CsvOptions::default(), false)
        .unwrap_err();
    assert!(
        err.to_string().contains("raw/sales.csv already exists"),
        "{err}"
    );
    fx.upload(&path, None, &CsvOptions::default(), true)
        .unwrap();
    // The replaced version is kept in the trash.
    let trash = fx.ws.root().join("trash/raw");
    assert_eq!(std::fs::read_dir(trash).unwrap().count(), 1);
}

#[test]
fn inspecting_a_file_reads_its_head_and_writes_nothing() {
    let fx = fixture();
    let before = fx.snapshot();
    let good = fx.file("good.csv", Variant::reference().render().as_bytes());
    let seen = tablero_app::data::inspect_file(&fx.b, &good, &CsvOptions::default()).unwrap();
    assert!(seen.problems.is_empty(), "{:?}", seen.problems);
    assert!(seen.whole_file);
    let spec = seen.ingest.unwrap();
    assert_eq!(seen.columns, spec.columns);
    assert!(spec
        .mapping
        .iter()
        .any(|m| m.canonical == Canonical::CustomerId));
    assert!(seen.rows_sampled > 0);

    // Missing required columns: the columns are still given, for mapping.
    let odd = fx.file(
        "odd.csv",
        b"Buyer,When,Qty,Price\n1,2011-01-01 10:00:00,2,1.5\n",
    );
    let seen = tablero_app::data::inspect_file(&fx.b, &odd, &CsvOptions::default()).unwrap();
    assert!(seen.ingest.is_none());
    assert_eq!(seen.columns, ["Buyer", "When", "Qty", "Price"]);
    assert!(
        seen.problems[0].contains("missing required column"),
        "{:?}",
        seen.problems
    );
    // …and with the mapping the head reads.
    let opts = CsvOptions {
        mapping: parse_mapping("Buyer=customer_id,When=invoice_date,Qty=quantity,Price=unit_price")
            .unwrap(),
        ..CsvOptions::default()
    };
    let seen = tablero_app::data::inspect_file(&fx.b, &odd, &opts).unwrap();
    assert!(seen.problems.is_empty(), "{:?}", seen.problems);
    assert_eq!(fx.snapshot(), before, "inspection writes nothing");
}

#[test]
fn a_cancelled_upload_stores_nothing() {
    let fx = fixture();
    let before = fx.snapshot();
    let file = fx.file("good.csv", Variant::reference().render().as_bytes());
    let asked = std::cell::Cell::new(0);
    // Cancelled at the second checkpoint (after validation).
    let err = tablero_app::data::upload(
        &fx.b,
        &file,
        None,
        &CsvOptions::default(),
        false,
        &|_, _| {},
        &|| {
            asked.set(asked.get() + 1);
            asked.get() >= 2
        },
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Cancelled, "{err}");
    assert_eq!(fx.snapshot(), before, "nothing stored, nothing audited");
    // Not cancelled: stored.
    tablero_app::data::upload(
        &fx.b,
        &file,
        None,
        &CsvOptions::default(),
        false,
        &|_, _| {},
        &|| false,
    )
    .unwrap();
    assert_ne!(fx.snapshot(), before);
}

/// A CSV saved by Excel on Windows (tests/data/excel): Windows-1252 with ’
/// and €, `;`, decimal commas, day-first dates. It uploads, previews and
/// cleans with the right text and numbers, the preview typing its columns
/// as the clean stage reads them.
#[test]
fn an_excel_csv_from_windows_uploads_previews_and_cleans() {
    let fx = fixture();
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/excel/excel-windows-1252.csv");
    let up = fx
        .upload(&path, Some("excel.csv"), &CsvOptions::default(), false)
        .unwrap();
    assert_eq!(up.ingest.encoding, Encoding::Windows1252);
    assert_eq!(up.ingest.delimiter, ";");
    assert_eq!(up.ingest.date_format, "%d/%m/%Y %H:%M");
    assert_eq!((up.rows, up.unparseable), (6, 0));

    let preview = tablero_app::data::preview(&fx.b, Bucket::Raw, "excel.csv", 20).unwrap();
    let dtype = |name: &str| {
        preview
            .schema
            .iter()
            .find(|c| c.name == name)
            .map(|c| c.dtype.clone())
            .unwrap()
    };
    assert_eq!(
        dtype("UnitPrice"),
        "float",
        "2,55 is a number, as the clean stage reads it"
    );
    assert_eq!(dtype("InvoiceDate"), "datetime");
    assert_eq!(dtype("Quantity"), "integer");
    let texts: Vec<&str> = preview.rows.iter().map(|r| r[2].as_str()).collect();
    assert!(texts.contains(&"CHILDREN’S LANTERN €5 OFFER"), "{texts:?}");
    assert!(texts.contains(&"HAND WARMER “UNION JACK”"), "{texts:?}");
    let price = preview
        .stats
        .iter()
        .find(|s| s.name == "UnitPrice")
        .unwrap();
    assert_eq!(
        serde_json::to_value(&price.min).unwrap(),
        serde_json::json!(1.69)
    );

    let (job, df) = fx.clean("excel.csv");
    assert_eq!(job.status, JobStatus::Succeeded, "{:?}", job.error);
    let df = df.unwrap();
    assert_eq!(df.height(), 5, "the cancellation is removed");
    let descriptions = column_strings(&df, "description");
    assert!(
        descriptions.contains(&"CHILDREN’S LANTERN €5 OFFER".to_string()),
        "{descriptions:?}"
    );
    assert!(descriptions.contains(&"ASSORTED COLOUR BIRD ORNAMENT – CAFÉ".to_string()));
    let prices: Vec<f64> = column_strings(&df, "unit_price")
        .iter()
        .map(|p| p.parse().unwrap())
        .collect();
    assert_eq!(prices, vec![2.55, 3.39, 1.85, 1.69, 4.25]);
}

mod refused_uploads {
    //! Property: whatever bytes an upload is given, a refusal leaves the
    //! workspace exactly as it was (files, audit trail), with the error
    //! kind of bad input. Fewer cases than the pure parsers' (each is a
    //! real upload); failures are kept in tests/data/proptest/.
    use super::*;
    use proptest::prelude::*;
    use proptest::test_runner::{Config, FileFailurePersistence};

    fn bad_csv() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..600),
            // Header-like first lines with a broken body.
            (
                "(InvoiceNo|CustomerID|Quantity)[,;]{1,2}[A-Za-z ,;\"]{0,30}",
                proptest::collection::vec("[0-9,;\"\u{0}\u{92}x]{0,20}", 0..6)
            )
                .prop_map(|(h, rows)| format!("{h}\n{}\n", rows.join("\n")).into_bytes()),
        ]
    }

    proptest! {
        #![proptest_config(Config {
            cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse::<u32>().ok()).map_or(64, |c| (c / 20).max(16)),
            failure_persistence: Some(Box::new(FileFailurePersistence::Direct("../../tests/data/proptest/refused-upload.txt"))),
            ..Config::default()
        })]

        #[test]
        fn a_refused_upload_leaves_the_workspace_as_it_was(bytes in bad_csv()) {
            let fx = fixture();
            let before = (fx.snapshot(), fx.audit_len());
            let file = fx.file("bad.csv", &bytes);
            match fx.upload(&file, Some("bad.csv"), &CsvOptions::default(), false) {
                Ok(_) => {}
                Err(e) => {
                    prop_assert_eq!(e.kind(), ErrorKind::InvalidInput, "{}", e);
                    prop_assert_eq!((fx.snapshot(), fx.audit_len()), before);
                }
            }
        }
    }
}

/// A file of many blocks: progress only rises and ends at the file's size;
/// a cancel while it is validated, and one while it is stored, both leave
/// the workspace as it was.
#[test]
fn a_large_upload_reports_rising_progress_and_a_cancel_midway_leaves_nothing() {
    let fx = fixture();
    let sample = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/sample/online_retail_sample.csv"),
    )
    .unwrap();
    let body = sample.iter().position(|&b| b == b'\n').unwrap() + 1;
    let mut big = sample.clone();
    for _ in 0..5 {
        big.extend_from_slice(&sample[body..]);
    }
    let file = fx.file("big.csv", &big);
    let size = big.len() as u64;
    let before = fx.snapshot();
    let rising = |seen: &[u64]| seen.windows(2).all(|w| w[0] < w[1]);
    for cut in [0.25, 0.75] {
        let seen = std::cell::RefCell::new(Vec::new());
        let err = tablero_app::data::upload(
            &fx.b,
            &file,
            None,
            &CsvOptions::default(),
            false,
            &|done, total| {
                assert_eq!(total, size);
                seen.borrow_mut().push(done);
            },
            &|| {
                seen.borrow()
                    .last()
                    .is_some_and(|&d| d as f64 >= cut * size as f64)
            },
        )
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Cancelled, "{err}");
        assert_eq!(fx.snapshot(), before, "cancelled at {cut}: nothing stored");
        let seen = seen.into_inner();
        assert!(rising(&seen), "{seen:?}");
        assert!(*seen.last().unwrap() < size, "{seen:?}");
    }
    let seen = std::cell::RefCell::new(Vec::new());
    let up = tablero_app::data::upload(
        &fx.b,
        &file,
        None,
        &CsvOptions::default(),
        false,
        &|done, _| seen.borrow_mut().push(done),
        &|| false,
    )
    .unwrap();
    let seen = seen.into_inner();
    assert!(seen.len() > 10 && rising(&seen), "{seen:?}");
    assert_eq!(seen.last(), Some(&size));
    assert_eq!(up.rows, 6 * 29_070);
    assert_eq!(up.object.size, size);
    let sha: String = Sha256::digest(&big)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(up.sha256, sha);
}

/// The file changed between validation and storing: refused, nothing kept.
#[test]
fn a_file_changed_while_it_is_uploaded_is_refused() {
    let fx = fixture();
    let text = Variant::reference().render();
    let file = fx.file("moving.csv", text.as_bytes());
    let before = fx.snapshot();
    let changed = std::cell::Cell::new(false);
    let err = tablero_app::data::upload(
        &fx.b,
        &file,
        None,
        &CsvOptions::default(),
        false,
        &|done, total| {
            // Once validation is over, the same length, other bytes.
            if done >= total / 2 && !changed.get() {
                changed.set(true);
                std::fs::write(&file, text.replacen("536365", "536366", 1)).unwrap();
            }
        },
        &|| false,
    )
    .unwrap_err();
    assert!(changed.get());
    assert!(
        err.to_string().contains("changed after it was validated"),
        "{err}"
    );
    assert_eq!(fx.snapshot(), before);
}

/// A memory budget too small for a stage refuses the stage before it
/// starts, naming the megabytes it needs and the setting; with the budget
/// raised to that figure the stage runs and gives the table it gives with
/// the default budget. Both clean presets (streaming and in memory) and
/// the features stage.
#[test]
fn a_stage_over_the_memory_budget_is_refused_with_the_memory_it_needs() {
    let fx = fixture();
    let sample =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/sample/online_retail_sample.csv");
    fx.upload(&sample, Some("s.csv"), &CsvOptions::default(), false)
        .unwrap();
    let cfg = fx.ws.config_path();
    let set_budget = |mb: u64| {
        let text = std::fs::read_to_string(&cfg).unwrap();
        let start = text.find("memory_mb = ").unwrap();
        let end = start + text[start..].find('\n').unwrap();
        let text = format!("{}memory_mb = {mb}{}", &text[..start], &text[end..]);
        std::fs::write(&cfg, text).unwrap();
    };
    let run = |request: JobRequest| {
        let job = fx.ws.submit(request).unwrap();
        fx.ws.run(&job.id, &|_| {}).unwrap()
    };
    let table_of = |job: &tablero_core::job::Job| {
        let o = job.output.as_ref().unwrap();
        let path = fx
            .ws
            .root()
            .join("buckets")
            .join(o.bucket.name())
            .join(&o.key);
        table::from_parquet(&std::fs::read(path).unwrap()).unwrap()
    };
    // The figure in "needs about N MB".
    let needed = |job: &tablero_core::job::Job| -> u64 {
        assert_eq!(job.status, JobStatus::Failed);
        let msg = job.error.clone().unwrap();
        assert!(msg.contains("[limits] memory_mb"), "{msg}");
        assert!(msg.contains("over the budget of 1 MB"), "{msg}");
        let at = msg.find("needs about ").unwrap() + "needs about ".len();
        msg[at..].split(' ').next().unwrap().parse().unwrap()
    };
    for preset in [Preset::Standard, Preset::Parity] {
        let clean = || JobRequest::Clean {
            raw_key: "s.csv".into(),
            preset,
            out_key: Some(format!("{}.parquet", preset.name())),
        };
        set_budget(0);
        let full = run(clean());
        assert_eq!(full.status, JobStatus::Succeeded, "{:?}", full.error);
        let expected = table_of(&full);
        tablero_app::data::delete(&fx.b, Bucket::Clean, &full.output.as_ref().unwrap().key)
            .unwrap();
        let before = fx.snapshot();

        set_budget(1);
        let refused = run(clean());
        let need = needed(&refused);
        assert!(need > 1);
        assert_eq!(
            fx.snapshot()
                .into_iter()
                .filter(|(k, _)| k.starts_with("buckets/"))
                .collect::<Vec<_>>(),
            before
                .into_iter()
                .filter(|(k, _)| k.starts_with("buckets/"))
                .collect::<Vec<_>>(),
            "a refused stage writes nothing"
        );

        set_budget(need);
        let done = run(clean());
        assert_eq!(done.status, JobStatus::Succeeded, "{:?}", done.error);
        assert!(table_of(&done).equals_missing(&expected));

        set_budget(1);
        let features = || JobRequest::Features {
            clean_key: done.output.as_ref().unwrap().key.clone(),
            preset,
            cutoff: None,
            horizon_days: 90,
            out_key: None,
        };
        let need = needed(&run(features()));
        set_budget(need);
        let done = run(features());
        assert_eq!(done.status, JobStatus::Succeeded, "{:?}", done.error);
    }
}
