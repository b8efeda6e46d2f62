//! Property-based tests of the parsers users' input reaches: the CSV reader
//! (delimiters, quoting, encodings, byte-order marks, ragged rows, huge
//! fields, NUL bytes, declared options), `--map` strings and object keys.
//! None may panic; every refusal is a documented error with a specific
//! message; what is accepted is what the rules say.
//!
//! Cases: `PROPTEST_CASES` (scripts/test.sh runs the default below;
//! scripts/proptest-long.sh runs many more). A failing case is kept in
//! tests/data/proptest/ and run first from then on.

use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence};
use tablero_core::ingest::{self, parse_mapping, Canonical, CsvOptions, Encoding, IngestError};
use tablero_core::ports::{BackendError, ErrorKind};
use tablero_core::store::ObjectKey;

fn config(file: &'static str) -> Config {
    Config {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|c| c.parse().ok())
            .unwrap_or(2000),
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(file))),
        ..Config::default()
    }
}

/// A field as users' files have them: plain, numbers with a decimal comma,
/// dates, quotes, delimiters and newlines inside, non-ASCII, NUL.
fn field() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z0-9 ]{0,12}",
        "[0-9]{1,5}(,[0-9]{1,2})?",
        "(0[1-9]|[12][0-9])/(0[1-9]|1[0-2])/20[0-2][0-9] [01][0-9]:[0-5][0-9]",
        "20[0-2][0-9]-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]) [01][0-9]:[0-5][0-9]:[0-5][0-9]",
        "\"[^\"]{0,8}\"",
        "\"[a-z]*\"\"[a-z]*\"",
        "[,;|\t\"\n\r]{1,3}",
        "[’€éÉ“”–\u{0}]{1,4}",
        Just(String::new()),
    ]
}

fn header() -> impl Strategy<Value = Vec<String>> {
    let canonical = Just(
        [
            "InvoiceNo",
            "StockCode",
            "Description",
            "Quantity",
            "InvoiceDate",
            "UnitPrice",
            "CustomerID",
            "Country",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect::<Vec<_>>(),
    );
    prop_oneof![
        3 => canonical,
        1 => proptest::collection::vec("[A-Za-z ]{1,10}", 1..10),
    ]
}

/// A CSV: a header, rows (possibly ragged), a delimiter, line ends, an
/// encoding, maybe a byte-order mark, maybe one huge field.
fn csv() -> impl Strategy<Value = Vec<u8>> {
    (
        header(),
        proptest::collection::vec(proptest::collection::vec(field(), 0..10), 0..20),
        prop_oneof![Just(','), Just(';'), Just('\t'), Just('|')],
        prop_oneof![Just("\n"), Just("\r\n")],
        0..3u8,
        any::<bool>(),
        proptest::option::weighted(0.05, 60_000..200_000usize),
    )
        .prop_map(|(header, rows, delim, eol, encoding, bom, huge)| {
            let d = delim.to_string();
            let mut text = header.join(&d);
            text.push_str(eol);
            for (i, r) in rows.iter().enumerate() {
                let mut r = r.clone();
                if i == 0 {
                    if let Some(n) = huge {
                        r.push("x".repeat(n));
                    }
                }
                text.push_str(&r.join(&d));
                text.push_str(eol);
            }
            let mut bytes = match encoding {
                0 => text.into_bytes(),
                // Windows-1252 where it can encode, '?' where not.
                1 => text
                    .chars()
                    .map(|c| match c {
                        '€' => 0x80,
                        '’' => 0x92,
                        '“' => 0x93,
                        '”' => 0x94,
                        '–' => 0x96,
                        c if (c as u32) < 0x100 => c as u8,
                        _ => b'?',
                    })
                    .collect(),
                // Latin-1.
                _ => text
                    .chars()
                    .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
                    .collect(),
            };
            if bom {
                bytes.splice(0..0, *b"\xEF\xBB\xBF");
            }
            bytes
        })
}

fn options() -> impl Strategy<Value = CsvOptions> {
    (
        proptest::option::of(prop_oneof![
            Just(Encoding::Utf8),
            Just(Encoding::Windows1252),
            Just(Encoding::Latin1)
        ]),
        proptest::option::of(prop_oneof![Just(b','), Just(b';'), Just(b'\t'), Just(b'|')]),
        proptest::option::of(prop_oneof![
            Just("%d/%m/%Y %H:%M".to_string()),
            Just("%Y-%m-%d %H:%M:%S".to_string()),
            "[%a-zY ]{0,8}",
        ]),
        proptest::option::of("[A-Za-z =,]{0,30}"),
    )
        .prop_map(|(encoding, delimiter, date_format, map)| CsvOptions {
            encoding,
            delimiter,
            date_format,
            mapping: map.and_then(|m| parse_mapping(&m).ok()).unwrap_or_default(),
        })
}

/// A refusal users see: the error kind of bad input and a message that
/// says something.
fn check_refusal(e: &IngestError) {
    let message = e.to_string();
    assert!(message.len() > 10, "a specific message: {message:?}");
    let kind = BackendError::from(tablero_core::Error::from(e.clone())).kind();
    assert_eq!(kind, ErrorKind::InvalidInput, "{message}");
}

proptest! {
    #![proptest_config(config("../../tests/data/proptest/csv-reader.txt"))]

    #[test]
    fn the_csv_reader_accepts_or_refuses_with_a_specific_message(bytes in csv(), opts in options()) {
        match ingest::inspect(&bytes, &opts) {
            Ok((spec, parsed)) => {
                prop_assert!(spec.columns.len() >= 2);
                prop_assert!(parsed.rows.len() as u64 + parsed.unparseable <= parsed.rows_read);
                prop_assert!(parsed.unparseable_examples.len() <= 5);
                // What upload validated, the clean stage reads the same way.
                let again = ingest::parse(&bytes, &spec).expect("a validated file reads again");
                prop_assert_eq!(again.rows_read, parsed.rows_read);
                prop_assert_eq!(again.rows.len(), parsed.rows.len());
                // And a preview of its head neither panics nor disagrees on the header.
                if let Ok((head, _)) = ingest::head(&bytes, &spec, 20) {
                    prop_assert_eq!(head, spec.columns.clone());
                }
            }
            Err(e) => check_refusal(&e),
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_reader(bytes in proptest::collection::vec(any::<u8>(), 0..4000)) {
        if let Err(e) = ingest::inspect(&bytes, &CsvOptions::default()) {
            check_refusal(&e);
        }
    }

    #[test]
    fn map_strings_parse_or_are_refused_by_name(s in "[ -~’é]{0,60}") {
        match parse_mapping(&s) {
            Ok(entries) => {
                for (column, canonical) in entries {
                    prop_assert!(!column.trim().is_empty());
                    prop_assert_eq!(Canonical::from_name(canonical.name()), Some(canonical));
                }
            }
            Err(e) => check_refusal(&e),
        }
    }

    #[test]
    fn object_keys_that_pass_cannot_escape_their_bucket(s in "[a-z./\\\\\u{0} ]{0,40}|.{0,40}") {
        match ObjectKey::new(&s) {
            Ok(k) => {
                let k = k.as_str();
                prop_assert!(!k.is_empty() && k.len() <= 1024);
                prop_assert!(!k.starts_with('/') && !k.contains('\\') && !k.contains('\0'));
                prop_assert!(k.split('/').all(|seg| !seg.is_empty() && !seg.starts_with('.')));
            }
            Err(e) => {
                let message = e.to_string();
                prop_assert!(message.starts_with("invalid object key"), "{}", message);
                prop_assert_eq!(BackendError::from(e).kind(), ErrorKind::InvalidKey);
            }
        }
    }
}
