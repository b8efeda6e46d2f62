//! Splitting a CSV body at row boundaries (quoted newlines stay in their
//! row), for parallel parsing and batch scoring.

/// Byte offset where the data rows start (after the header line).
pub(super) fn header_end(text: &str) -> usize {
    // The header may contain a quoted newline: find the first newline
    // outside quotes.
    let mut in_quotes = false;
    for (i, b) in text.bytes().enumerate() {
        match b {
            b'"' => in_quotes = !in_quotes,
            b'\n' if !in_quotes => return i + 1,
            _ => {}
        }
    }
    text.len()
}

/// Splits the body of a CSV (its rows, after the header) into about `n`
/// pieces at row boundaries — a newline is a row boundary when an even
/// number of quotes precedes it — for parsing or scoring the pieces in
/// parallel. Returns `(start, end, line number of the first row)`, the
/// header being line 1.
///
/// ```
/// let parts = tablero_core::ingest::split_at_rows(b"a,1\n\"b\nc\",2\nd,3\n", 3);
/// assert_eq!(parts.last().unwrap().1, 16);
/// // Rows start at 0, 4 and 12; the quoted newline at 6 is not a boundary.
/// assert!(parts.iter().all(|&(s, _, _)| s == 0 || s == 4 || s == 12));
/// ```
pub fn split_at_rows(bytes: &[u8], n: usize) -> Vec<(usize, usize, u64)> {
    let mut out = Vec::new();
    let mut start = 0usize;
    let mut line = 2u64; // the header is line 1
    let target = bytes.len() / n.max(1);
    let mut quotes = 0usize;
    let mut newlines = 0u64;
    let mut i = 0usize;
    while out.len() + 1 < n {
        let goal = start + target;
        if goal >= bytes.len() {
            break;
        }
        // Count quotes and newlines up to the goal (a vectorised count),
        // then advance to a newline outside quotes.
        let span = &bytes[i..goal];
        quotes += span.iter().filter(|&&b| b == b'"').count();
        newlines += span.iter().filter(|&&b| b == b'\n').count() as u64;
        i = goal;
        while i < bytes.len() {
            let b = bytes[i];
            i += 1;
            if b == b'"' {
                quotes += 1;
            } else if b == b'\n' {
                newlines += 1;
                if quotes.is_multiple_of(2) {
                    break;
                }
            }
        }
        if i >= bytes.len() {
            break;
        }
        out.push((start, i, line));
        line = 2 + newlines;
        start = i;
    }
    out.push((start, bytes.len(), line));
    out
}
