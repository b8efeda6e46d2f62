//! Splitting a CSV body into records and fields: RFC 4180 as the `csv`
//! crate reads it (a field that starts with `"` is quoted, `""` inside it is
//! one quote, text after the closing quote up to the delimiter is kept;
//! `\n`, `\r\n` and a lone `\r` end a record), without copying a field that
//! needs no unescaping. The parser of the whole file; the header, the
//! date-format samples and previews read with the `csv` crate, whose rules
//! these are.

/// Where a field's text is: in the body, or unescaped in the scratch buffer.
#[derive(Debug, Clone, Copy)]
enum Span {
    Body(usize, usize),
    Scratch(usize, usize),
}

/// Fields of the current record.
pub(super) struct Record<'t> {
    body: &'t str,
    spans: Vec<Span>,
    scratch: String,
}

impl<'t> Record<'t> {
    /// Number of fields.
    pub(super) fn len(&self) -> usize {
        self.spans.len()
    }

    /// Field `i`, untrimmed (`""` past the end).
    pub(super) fn raw(&self, i: usize) -> &str {
        match self.spans.get(i) {
            Some(&Span::Body(a, b)) => &self.body[a..b],
            Some(&Span::Scratch(a, b)) => &self.scratch[a..b],
            None => "",
        }
    }

    /// Field `i`, trimmed (as `str::trim`: Unicode white space).
    pub(super) fn get(&self, i: usize) -> &str {
        let s = self.raw(i);
        match (s.as_bytes().first(), s.as_bytes().last()) {
            // Most fields start and end with a printable ASCII byte: nothing to trim.
            (Some(&a), Some(&b)) if (0x21..0x7f).contains(&a) && (0x21..0x7f).contains(&b) => s,
            _ => s.trim(),
        }
    }
}

/// Reads records from a body of text.
pub(super) struct Tokenizer<'t> {
    body: &'t str,
    pos: usize,
    /// Newlines before `pos`.
    newlines: u64,
    delimiter: u8,
}

impl<'t> Tokenizer<'t> {
    pub(super) fn new(body: &'t str, delimiter: u8) -> Tokenizer<'t> {
        Tokenizer {
            body,
            pos: 0,
            newlines: 0,
            delimiter,
        }
    }

    /// An empty record to read into.
    pub(super) fn record(&self) -> Record<'t> {
        Record {
            body: self.body,
            spans: Vec::with_capacity(16),
            scratch: String::new(),
        }
    }

    /// Reads the next record into `rec`; returns the number of newlines
    /// before its start, or `None` at the end. Empty lines are skipped. A
    /// quote never closed takes the rest of the body, as in the csv crate.
    pub(super) fn next(&mut self, rec: &mut Record<'t>) -> Option<u64> {
        let bytes = self.body.as_bytes();
        // Skip empty lines, as the csv crate does.
        while self.pos < bytes.len() && (bytes[self.pos] == b'\n' || bytes[self.pos] == b'\r') {
            if bytes[self.pos] == b'\n' {
                self.newlines += 1;
            }
            self.pos += 1;
        }
        if self.pos >= bytes.len() {
            return None;
        }
        let start_newlines = self.newlines;
        rec.spans.clear();
        rec.scratch.clear();
        let d = self.delimiter;
        // Most records have no quote: find the line's end, then split it
        // at the delimiters, in two scans rather than one per field.
        let rest = &bytes[self.pos..];
        let stop = memchr::memchr3(b'\n', b'\r', b'"', rest).map_or(bytes.len(), |j| self.pos + j);
        if bytes.get(stop) != Some(&b'"') {
            let mut from = self.pos;
            let base = self.pos;
            each_byte(&bytes[base..stop], d, |j| {
                rec.spans.push(Span::Body(from, base + j));
                from = base + j + 1;
            });
            rec.spans.push(Span::Body(from, stop));
            self.pos = stop;
            match bytes.get(stop) {
                Some(b'\r') => {
                    self.pos += 1;
                    if bytes.get(self.pos) == Some(&b'\n') {
                        self.pos += 1;
                        self.newlines += 1;
                    }
                }
                Some(b'\n') => {
                    self.pos += 1;
                    self.newlines += 1;
                }
                _ => {}
            }
            return Some(start_newlines);
        }
        loop {
            // One field.
            let end = if bytes.get(self.pos) == Some(&b'"') {
                self.quoted(rec)
            } else {
                let end = memchr::memchr3(d, b'\n', b'\r', &bytes[self.pos..])
                    .map_or(bytes.len(), |j| self.pos + j);
                rec.spans.push(Span::Body(self.pos, end));
                end
            };
            match bytes.get(end) {
                Some(&b) if b == d => self.pos = end + 1,
                Some(b'\r') => {
                    self.pos = end + 1;
                    if bytes.get(self.pos) == Some(&b'\n') {
                        self.pos += 1;
                        self.newlines += 1;
                    }
                    return Some(start_newlines);
                }
                Some(b'\n') => {
                    self.pos = end + 1;
                    self.newlines += 1;
                    return Some(start_newlines);
                }
                _ => {
                    self.pos = bytes.len();
                    return Some(start_newlines);
                }
            }
        }
    }

    /// A quoted field starting at `self.pos`; returns the index just past
    /// it (at a delimiter, a line end or the end).
    fn quoted(&mut self, rec: &mut Record<'t>) -> usize {
        let bytes = self.body.as_bytes();
        let d = self.delimiter;
        let open = self.pos + 1;
        let mut i = open;
        let mut copied = false;
        let scratch_start = rec.scratch.len();
        loop {
            let Some(q) = memchr::memchr(b'"', &bytes[i..]).map(|j| i + j) else {
                self.newlines += memchr::memchr_iter(b'\n', &bytes[i..]).count() as u64;
                rec.scratch.push_str(&self.body[i..]);
                rec.spans
                    .push(Span::Scratch(scratch_start, rec.scratch.len()));
                return bytes.len();
            };
            self.newlines += memchr::memchr_iter(b'\n', &bytes[i..q]).count() as u64;
            if bytes.get(q + 1) == Some(&b'"') {
                // `""`: one quote; the field needs unescaping.
                rec.scratch.push_str(&self.body[i..q + 1]);
                copied = true;
                i = q + 2;
                continue;
            }
            // The closing quote; text after it up to the delimiter is kept.
            let after = q + 1;
            let end = memchr::memchr3(d, b'\n', b'\r', &bytes[after..])
                .map_or(bytes.len(), |j| after + j);
            if !copied && end == after {
                rec.spans.push(Span::Body(open, q));
            } else {
                rec.scratch.push_str(&self.body[i..q]);
                rec.scratch.push_str(&self.body[after..end]);
                rec.spans
                    .push(Span::Scratch(scratch_start, rec.scratch.len()));
            }
            return end;
        }
    }
}

/// Calls `f` with the index of each byte of `hay` equal to `b`, in order,
/// eight bytes at a time: a record's fields are too short for a search
/// that starts over at every delimiter.
fn each_byte(hay: &[u8], b: u8, mut f: impl FnMut(usize)) {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let pattern = u64::from_le_bytes([b; 8]);
    let mut words = hay.chunks_exact(8);
    let mut at = 0;
    for word in &mut words {
        let mut w = [0u8; 8];
        w.copy_from_slice(word);
        let x = u64::from_le_bytes(w) ^ pattern;
        // The high bit of each byte of x that is zero, exactly (no carry
        // crosses a byte: each byte's low 7 bits plus 0x7f fit in 8 bits).
        let mut zeros = !(((x & LOW7) + LOW7) | x | LOW7);
        while zeros != 0 {
            f(at + zeros.trailing_zeros() as usize / 8);
            zeros &= zeros - 1;
        }
        at += 8;
    }
    for (j, &c) in words.remainder().iter().enumerate() {
        if c == b {
            f(at + j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records as the `csv` crate reads them, for comparison.
    fn by_csv(text: &str) -> Vec<Vec<String>> {
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(text.as_bytes());
        rdr.records()
            .map(|r| r.unwrap().iter().map(str::to_string).collect())
            .collect()
    }

    fn ours(text: &str) -> Vec<Vec<String>> {
        let mut t = Tokenizer::new(text, b',');
        let mut rec = t.record();
        let mut out = Vec::new();
        while t.next(&mut rec).is_some() {
            out.push((0..rec.len()).map(|i| rec.raw(i).to_string()).collect());
        }
        out
    }

    #[test]
    fn reads_as_the_csv_crate() {
        for text in [
            "a,b,c\n1,2,3\n",
            "a,b\r\n1,2\r\n",
            "a,b\r1,2\r",
            "a,\"b,c\",d\n",
            "a,\"say \"\"hi\"\"\",d\n",
            "a,\"multi\nline\",d\n1,2,3",
            "a,\"x\"tail,d\n",
            "a,b\"c,d\n",
            "\n\na,b\n\n\nc,d\n",
            ",,\n",
            "a,\"\",b\n",
            "\"\"\"\",x\n",
            " a , b ,c\n",
            "a,b,c",
            "é,ü,€\n",
            "a,b\n\"open,x\ny,z\n",
            "a,\"b\"c\"d\",e\n",
            // Records with no quote (read in two scans) next to others.
            "a,b,\n,\nx,",
            "a,b\r\n\r\nc\r\"d\",e\rf,g",
            "1,2\n\"3\",4\n5,6\r\n7,\"8\n9\"\n",
            "a;b,c\n",
        ] {
            assert_eq!(ours(text), by_csv(text), "{text:?}");
        }
    }

    #[test]
    fn finds_each_byte_as_a_plain_search_does() {
        let mut x: u64 = 7;
        for len in 0..200 {
            let hay: Vec<u8> = (0..len)
                .map(|_| {
                    x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
                    // Mostly the byte itself, its neighbours and 0x80 + it.
                    [b',', b'+', b'-', 0xac, 0, 1, 0xff, b'a'][(x >> 61) as usize]
                })
                .collect();
            for b in [b',', 0, 0xff, 0x80] {
                let mut got = Vec::new();
                each_byte(&hay, b, |j| got.push(j));
                let want: Vec<usize> = (0..hay.len()).filter(|&j| hay[j] == b).collect();
                assert_eq!(got, want, "{hay:?} {b}");
            }
        }
    }

    #[test]
    fn counts_newlines_before_each_record() {
        let text = "a,b\n\"x\ny\",2\n\nc,d\n";
        let mut t = Tokenizer::new(text, b',');
        let mut rec = t.record();
        let mut starts = Vec::new();
        while let Some(n) = t.next(&mut rec) {
            starts.push(n);
        }
        assert_eq!(starts, vec![0, 1, 4]);
    }
}
