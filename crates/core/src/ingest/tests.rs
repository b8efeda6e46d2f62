use super::*;

#[test]
fn a_stopped_validation_gives_up_and_an_unstopped_one_does_not() {
    let mut csv = String::from(
        "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n",
    );
    for i in 0..(3 * STOP_CHECK_ROWS) {
        csv.push_str(&format!(
            "{},A{},Mug,{},2011-01-0{} 10:00:00,1.5,{},UK\n",
            536_365 + i,
            i % 50,
            1 + i % 7,
            1 + i % 9,
            17_000 + i % 300
        ));
    }
    let opts = CsvOptions::default();
    let stopped = inspect_until(csv.as_bytes(), &opts, &AtomicBool::new(true));
    assert!(matches!(stopped, Err(IngestError::Stopped)), "{stopped:?}");
    let (spec, parsed) = inspect_until(csv.as_bytes(), &opts, &AtomicBool::new(false)).unwrap();
    assert_eq!(parsed.rows_read as usize, 3 * STOP_CHECK_ROWS);
    assert_eq!(inspect(csv.as_bytes(), &opts).unwrap().0, spec);
}

#[test]
fn split_respects_quoted_newlines() {
    let body = "a,\"x\ny\",1\nb,c,2\nd,e,3\n";
    for n in 1..5 {
        let parts = split_at_rows(body.as_bytes(), n);
        let joined: String = parts.iter().map(|&(s, e, _)| &body[s..e]).collect();
        assert_eq!(joined, body);
        for &(s, _, _) in &parts {
            assert!(s == 0 || body.as_bytes()[s - 1] == b'\n');
            assert_ne!(&body[s..s.min(body.len()).max(s)], "y\",1\n");
        }
    }
    let parts = split_at_rows(body.as_bytes(), 3);
    assert!(parts.iter().all(|&(s, _, _)| !body[s..].starts_with("y\"")));
}

#[test]
fn customer_ids_written_as_floats_match_integers() {
    assert_eq!(normalise_customer("17850.0"), "17850");
    assert_eq!(normalise_customer("17850"), "17850");
    assert_eq!(normalise_customer("A17.0"), "A17.0");
    assert_eq!(normalise_customer("17850.5"), "17850.5");
}

#[test]
fn mapping_parses_and_rejects() {
    let m = parse_mapping("Customer ID=customer_id, Price=unit_price").unwrap();
    assert_eq!(
        m,
        vec![
            ("Customer ID".into(), Canonical::CustomerId),
            ("Price".into(), Canonical::UnitPrice)
        ]
    );
    assert!(matches!(
        parse_mapping("a=b"),
        Err(IngestError::BadMapping { .. })
    ));
    assert!(matches!(
        parse_mapping("ab"),
        Err(IngestError::BadMapping { .. })
    ));
}

#[test]
fn decimal_comma_and_non_finite() {
    assert_eq!(parse_num("2,55"), Some(2.55));
    assert_eq!(parse_num("1,000.5"), None);
    assert_eq!(parse_num("inf"), None);
    assert_eq!(parse_num("NaN"), None);
}

#[test]
fn each_supported_encoding_is_detected() {
    let text = "Description;Price\nCAFÉ\u{2019}S MUG €;2,55\n";
    // UTF-8, with and without a byte-order mark.
    let (s, e) = decode(text.as_bytes(), None).unwrap();
    assert_eq!((s.as_ref(), e), (text, Encoding::Utf8));
    let bom = [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat();
    let (s, e) = decode(&bom, None).unwrap();
    assert_eq!((s.as_ref(), e), (text, Encoding::Utf8));
    // Windows-1252: ’ is 0x92, € is 0x80, É is 0xC9.
    let cp1252 = b"Description;Price\nCAF\xC9\x92S MUG \x80;2,55\n";
    let (s, e) = decode(cp1252, None).unwrap();
    assert_eq!((s.as_ref(), e), (text, Encoding::Windows1252));
    // Latin-1: no byte in 0x80–0x9F.
    let (s, e) = decode(b"Description\nCAF\xC9\n", None).unwrap();
    assert_eq!((s.as_ref(), e), ("Description\nCAFÉ\n", Encoding::Latin1));
    // A byte Windows-1252 leaves unassigned: in neither; named.
    let e = decode(b"a\x81b", None).unwrap_err();
    assert!(e.to_string().contains("windows-1252"), "{e}");
    // Declared, Windows-1252 decodes as browsers do, even those bytes.
    let (s, _) = decode(b"a\x81\x80", Some(Encoding::Windows1252)).unwrap();
    assert_eq!(s, "a\u{81}€");
    // Every name --encoding takes.
    for e in Encoding::ALL {
        assert_eq!(Encoding::from_name(e.name()), Some(e));
    }
    assert_eq!(Encoding::from_name("CP1252"), Some(Encoding::Windows1252));
}
