//! Upload validation of a file of any size: how the file is read comes from
//! its head, then every row is read as a stream of blocks, in memory
//! bounded by a few blocks whatever the file's size.

use std::io::Read;

use super::blocks::{first_record_end, last_record_end, parse_chunks};
use super::*;

/// Bytes of a file's head read to detect how it is read (more while they
/// hold no data record).
pub const HEAD_BYTES: usize = 4 << 20;

/// The most read to find the header and a first record.
const MAX_HEAD_BYTES: usize = 256 << 20;

fn read_error(e: std::io::Error) -> IngestError {
    IngestError::Read(e.to_string())
}

/// Reads whole records from the start of `src`: about [`HEAD_BYTES`], more
/// while they hold less than the header and one record. Returns them and
/// whether they are the whole file.
pub fn read_head<R: Read>(mut src: R) -> Result<(Vec<u8>, bool), IngestError> {
    let mut buf = Vec::new();
    let mut want = HEAD_BYTES;
    loop {
        let missing = (want - buf.len()) as u64;
        let n = (&mut src)
            .take(missing)
            .read_to_end(&mut buf)
            .map_err(read_error)? as u64;
        if n < missing {
            return Ok((buf, true));
        }
        if let Some(h) = first_record_end(&buf) {
            if let Some(cut) = last_record_end(&buf[h..]) {
                buf.truncate(h + cut);
                return Ok((buf, false));
            }
        }
        if want >= MAX_HEAD_BYTES {
            return Err(IngestError::Malformed {
                line: 1,
                reason: format!(
                    "no record ends in the first {} MiB (an unclosed quote, or not a CSV)",
                    MAX_HEAD_BYTES >> 20
                ),
            });
        }
        want *= 2;
    }
}

/// How a file is read (encoding, delimiter, header, mapping, date format),
/// worked out from its head ([`read_head`]) as [`inspect`] does from the
/// whole file.
pub fn detect(
    head: &[u8],
    opts: &CsvOptions,
    stop: &AtomicBool,
) -> Result<IngestSpec, IngestError> {
    detect_text(head, opts, stop).map(|(_, spec)| spec)
}

/// Validates a whole file as at upload, as [`inspect`] does, but reading it
/// as a stream: memory holds a few blocks, not the file. `open` gives the
/// file from its start; it is called for the head, for the rows, and once
/// more when a byte past the head shows that a file without a declared
/// encoding is not UTF-8 (the file is then read as [`decode`] would read
/// it whole). `each(bytes)` is called in file order as blocks are
/// validated, with the bytes read so far; an error from it stops the
/// validation (a cancel: [`IngestError::Stopped`]).
///
/// Returns the spec and the counts and examples; [`Parsed::rows`] is empty.
pub fn validate<R, O>(
    open: O,
    opts: &CsvOptions,
    each: &mut dyn FnMut(u64) -> Result<(), IngestError>,
) -> Result<(IngestSpec, Parsed), IngestError>
where
    R: Read + Send,
    O: Fn() -> std::io::Result<R>,
{
    let (head, _) = read_head(open().map_err(read_error)?)?;
    let mut spec = detect(&head, opts, &AtomicBool::new(false))?;
    drop(head);
    let parsed = match validate_as(open().map_err(read_error)?, &spec, each) {
        Err(IngestError::Encoding {
            encoding: "utf-8", ..
        }) if opts.encoding.is_none() => {
            spec.encoding = undeclared_fallback(open().map_err(read_error)?)?;
            validate_as(open().map_err(read_error)?, &spec, each)?
        }
        r => r?,
    };
    Ok((spec, parsed))
}

/// The encoding [`decode`] picks for a file without a declared encoding
/// that is not UTF-8, from a pass over all of it.
fn undeclared_fallback<R: Read>(mut src: R) -> Result<Encoding, IngestError> {
    let mut buf = vec![0u8; 1 << 20];
    let (mut high, mut not_cp1252) = (false, false);
    loop {
        let n = match src.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(read_error(e)),
        };
        for &b in &buf[..n] {
            if (0x80..=0x9F).contains(&b) {
                high = true;
                not_cp1252 |= matches!(b, 0x81 | 0x8D | 0x8F | 0x90 | 0x9D);
            }
        }
    }
    Ok(if high && !not_cp1252 {
        Encoding::Windows1252
    } else {
        Encoding::Latin1
    })
}

/// Every row of `src` read with `spec`, as upload validation checks them.
fn validate_as<R: Read + Send>(
    src: R,
    spec: &IngestSpec,
    each: &mut dyn FnMut(u64) -> Result<(), IngestError>,
) -> Result<Parsed, IngestError> {
    let cols = Columns::resolve(spec)?;
    let mut total = Chunk::default();
    let blocks = BlockReader::new(src, spec.encoding, BLOCK_BYTES);
    // A pass of its own stop flag: a failed pass sets it, and the next
    // pass must start clear.
    let pass = AtomicBool::new(false);
    let run = parse_chunks(
        blocks,
        spec,
        &pass,
        |_, mut c: Chunk| {
            // Only the counts and examples are kept.
            c.parsed.rows = Transactions::default();
            Ok(c)
        },
        |mut c, read_to| {
            total.add_counts(&mut c);
            each(read_to).map_err(crate::Error::from)
        },
    );
    match run {
        Ok(()) => {}
        Err(crate::Error::Ingest(e)) => return Err(e),
        Err(e) => return Err(IngestError::Read(e.to_string())),
    }
    if total.parsed.rows_read == 0 {
        return Err(IngestError::NoRows {
            columns: spec.columns.len(),
        });
    }
    check_required(&total, cols, spec)?;
    Ok(total.parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csv_with(rows: usize, tail: &[u8]) -> Vec<u8> {
        let mut csv =
            b"InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
                .to_vec();
        for i in 0..rows {
            csv.extend_from_slice(
                format!(
                    "{},A{},\"thing, {i}\",{},12/1/2010 8:26,2.55,{},United Kingdom\n",
                    536365 + i / 7,
                    i % 50,
                    i % 9 + 1,
                    17850 + i % 300
                )
                .as_bytes(),
            );
        }
        csv.extend_from_slice(tail);
        csv
    }

    fn streamed(bytes: &[u8], opts: &CsvOptions) -> Result<(IngestSpec, Parsed), IngestError> {
        let mut seen = Vec::new();
        let r = validate(|| Ok(bytes), opts, &mut |done| {
            seen.push(done);
            Ok(())
        });
        if r.is_ok() {
            // Every byte was read (the counts start again when the file is
            // read a second time in another encoding).
            assert_eq!(seen.last(), Some(&(bytes.len() as u64)));
        }
        r
    }

    /// The streamed validation says what the whole-file one says: the
    /// same spec, counts and examples, or the same refusal.
    #[test]
    fn streamed_validation_agrees_with_the_whole_file() {
        let cases: Vec<(Vec<u8>, CsvOptions)> = vec![
            (csv_with(200_000, b""), CsvOptions::default()),
            (
                csv_with(
                    100_000,
                    b"536999,B1,x,notanumber,12/1/2010 8:26,1.0,1,France\n",
                ),
                CsvOptions::default(),
            ),
            // A byte past the head that is not UTF-8: Windows-1252 then.
            (
                csv_with(
                    100_000,
                    b"536999,B1,caf\x80,1,12/1/2010 8:26,1.0,1,France\n",
                ),
                CsvOptions::default(),
            ),
            // ... and one that is not Windows-1252 either: Latin-1, which
            // refuses 0x81 at its offset.
            (
                csv_with(
                    100_000,
                    b"536999,B1,caf\x81,1,12/1/2010 8:26,1.0,1,France\n",
                ),
                CsvOptions::default(),
            ),
            (csv_with(100_000, b"536999,B1,x,1\n"), CsvOptions::default()),
            (csv_with(0, b""), CsvOptions::default()),
            (b"  \n".to_vec(), CsvOptions::default()),
        ];
        for (bytes, opts) in cases {
            let whole = inspect(&bytes, &opts);
            let stream = streamed(&bytes, &opts);
            match (whole, stream) {
                (Ok((ws, wp)), Ok((ss, sp))) => {
                    assert_eq!(ws, ss);
                    assert_eq!(
                        (wp.rows_read, wp.unparseable, wp.unparseable_examples),
                        (sp.rows_read, sp.unparseable, sp.unparseable_examples)
                    );
                    assert_eq!(sp.rows.len(), 0);
                }
                (Err(w), Err(s)) => assert_eq!(w, s),
                (w, s) => panic!(
                    "whole file: {:?}\nstreamed: {:?}",
                    w.map(|(spec, p)| (spec, p.rows_read)),
                    s.map(|(spec, p)| (spec, p.rows_read))
                ),
            }
        }
    }

    #[test]
    fn the_head_is_whole_records_and_grows_for_a_long_first_record() {
        let bytes = csv_with(100_000, b"");
        let (head, whole) = read_head(&bytes[..]).unwrap();
        assert!(!whole);
        assert!(head.len() <= HEAD_BYTES && head.len() > HEAD_BYTES / 2);
        assert_eq!(head.last(), Some(&b'\n'));
        let long = format!("a,b\n\"{}\",1\nx,2\n", "y".repeat(HEAD_BYTES + 10));
        let (head, whole) = read_head(long.as_bytes()).unwrap();
        assert!(whole || head.len() > HEAD_BYTES);
        let (head, whole) = read_head(&b"a,b\n1,2"[..]).unwrap();
        assert!(whole);
        assert_eq!(head, b"a,b\n1,2");
    }

    #[test]
    fn an_error_from_each_stops_it() {
        let bytes = csv_with(100_000, b"");
        let err = validate(|| Ok(&bytes[..]), &CsvOptions::default(), &mut |_| {
            Err(IngestError::Stopped)
        })
        .unwrap_err();
        assert_eq!(err, IngestError::Stopped);
    }
}
