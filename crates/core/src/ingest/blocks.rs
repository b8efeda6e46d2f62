//! Reading a CSV as a stream of record-aligned blocks and parsing them on
//! every core, handed back in file order: the clean stage's way through a
//! file of any size in memory bounded by a few blocks.

use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::sync_channel;
use std::sync::{Arc, Mutex};

use super::*;

/// Bytes read per block (a block ends at the last record boundary in it).
/// Small enough that a block's buffers are recycled by the allocator from
/// one block to the next instead of being faulted in fresh from the kernel.
pub const BLOCK_BYTES: usize = 2 << 20;

/// A run of whole records, decoded.
#[derive(Debug)]
pub struct Block {
    /// The records' text (no header).
    pub text: String,
    /// Line number of the block's first line (the header is line 1).
    pub first_line: u64,
    /// Bytes of the file consumed up to the block's end.
    pub read_to: u64,
}

/// Splits a CSV byte stream into [`Block`]s: skips a UTF-8 byte-order mark
/// and the header, cuts at the last newline outside quotes, decodes each
/// block in the file's encoding.
pub struct BlockReader<R> {
    src: R,
    encoding: Encoding,
    block_bytes: usize,
    buf: Vec<u8>,
    /// File offset of `buf[0]`.
    offset: u64,
    /// Line number of `buf[0]`.
    line: u64,
    header_done: bool,
    eof: bool,
    failed: bool,
}

impl<R: Read> BlockReader<R> {
    /// Blocks of about `block_bytes` from `src`, a CSV in `encoding`.
    pub fn new(src: R, encoding: Encoding, block_bytes: usize) -> BlockReader<R> {
        BlockReader {
            src,
            encoding,
            block_bytes: block_bytes.max(1024),
            buf: Vec::new(),
            offset: 0,
            line: 1,
            header_done: false,
            eof: false,
            failed: false,
        }
    }

    fn fill(&mut self, want: usize) -> Result<(), IngestError> {
        while !self.eof && self.buf.len() < want {
            let missing = (want - self.buf.len()) as u64;
            // `read_to_end` fills spare capacity without zeroing it first.
            match (&mut self.src).take(missing).read_to_end(&mut self.buf) {
                Ok(0) => self.eof = true,
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(IngestError::Read(e.to_string())),
            }
        }
        Ok(())
    }

    fn skip_header(&mut self) -> Result<bool, IngestError> {
        let mut want = self.block_bytes;
        loop {
            self.fill(want)?;
            if self.offset == 0 && self.buf.starts_with(b"\xEF\xBB\xBF") {
                self.buf.drain(..3);
                self.offset = 3;
            }
            let end = first_record_end(&self.buf);
            match end {
                Some(end) => {
                    self.line += memchr::memchr_iter(b'\n', &self.buf[..end]).count() as u64;
                    self.buf.drain(..end);
                    self.offset += end as u64;
                    return Ok(true);
                }
                None if self.eof => return Ok(false),
                None => want = self.buf.len() * 2,
            }
        }
    }

    fn next_block(&mut self) -> Result<Option<Block>, IngestError> {
        if !self.header_done {
            self.header_done = true;
            if !self.skip_header()? {
                return Ok(None);
            }
        }
        let mut want = self.block_bytes;
        let cut = loop {
            self.fill(want)?;
            if self.eof {
                break self.buf.len();
            }
            match last_record_end(&self.buf) {
                Some(cut) => break cut,
                // One record longer than the block: read on.
                None => want = self.buf.len() * 2,
            }
        };
        if cut == 0 {
            return Ok(None);
        }
        let rest = self.buf[cut..].to_vec();
        let mut piece = std::mem::replace(&mut self.buf, Vec::with_capacity(self.block_bytes));
        piece.truncate(cut);
        self.buf.extend_from_slice(&rest);
        let first_line = self.line;
        let offset = self.offset;
        self.line += memchr::memchr_iter(b'\n', &piece).count() as u64;
        self.offset += cut as u64;
        let text = match self.encoding {
            Encoding::Utf8 => String::from_utf8(piece).map_err(|e| {
                let at = e.utf8_error().valid_up_to();
                IngestError::Encoding {
                    encoding: "utf-8",
                    offset: offset as usize + at,
                    byte: e.as_bytes()[at],
                }
            })?,
            enc => match decode(&piece, Some(enc)) {
                Ok((text, _)) => text.into_owned(),
                Err(IngestError::Encoding {
                    encoding,
                    offset: at,
                    byte,
                }) => {
                    return Err(IngestError::Encoding {
                        encoding,
                        offset: offset as usize + at,
                        byte,
                    })
                }
                Err(e) => return Err(e),
            },
        };
        Ok(Some(Block {
            text,
            first_line,
            read_to: self.offset,
        }))
    }
}

impl<R: Read> Iterator for BlockReader<R> {
    type Item = Result<Block, IngestError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let r = self.next_block().transpose();
        if matches!(r, Some(Err(_))) {
            self.failed = true;
        }
        r
    }
}

/// Just past the first newline outside quotes.
pub(super) fn first_record_end(buf: &[u8]) -> Option<usize> {
    let mut quotes = 0usize;
    for pos in memchr::memchr2_iter(b'"', b'\n', buf) {
        if buf[pos] == b'"' {
            quotes += 1;
        } else if quotes.is_multiple_of(2) {
            return Some(pos + 1);
        }
    }
    None
}

/// Just past the last newline outside quotes (`buf` starts at a record).
pub(super) fn last_record_end(buf: &[u8]) -> Option<usize> {
    let total = memchr::memchr_iter(b'"', buf).count();
    let mut after = 0usize;
    for pos in memchr::memrchr2_iter(b'"', b'\n', buf) {
        if buf[pos] == b'"' {
            after += 1;
        } else if (total - after).is_multiple_of(2) {
            return Some(pos + 1);
        }
    }
    None
}

/// Parses `blocks` on every core, runs `prepare` on each block's rows
/// there too (with the block's index in the file, 0, 1, …: a second pass
/// over the same file can find what a first pass learned about each
/// block), and calls `each` with the results and the bytes consumed so far
/// in file order, on the calling thread. Stops at the first error (a block
/// that cannot be read or parsed, or `prepare`'s or `each`'s own) and when
/// `stop` is set.
pub fn parse_blocks<R, T, P, E>(
    blocks: BlockReader<R>,
    spec: &IngestSpec,
    stop: &AtomicBool,
    prepare: P,
    each: E,
) -> crate::Result<()>
where
    R: Read + Send,
    T: Send,
    P: Fn(usize, Parsed) -> crate::Result<T> + Sync,
    E: FnMut(T, u64) -> crate::Result<()>,
{
    parse_chunks(blocks, spec, stop, |i, c: Chunk| prepare(i, c.parsed), each)
}

/// [`parse_blocks`] handing `prepare` the whole [`Chunk`] (with the
/// per-field counts upload validation needs).
pub(super) fn parse_chunks<R, T, P, E>(
    blocks: BlockReader<R>,
    spec: &IngestSpec,
    stop: &AtomicBool,
    prepare: P,
    mut each: E,
) -> crate::Result<()>
where
    R: Read + Send,
    T: Send,
    P: Fn(usize, Chunk) -> crate::Result<T> + Sync,
    E: FnMut(T, u64) -> crate::Result<()>,
{
    let cols = Columns::resolve(spec)?;
    let format = DateFormat::new(&spec.date_format)
        .ok_or_else(|| IngestError::BadDateFormat(spec.date_format.clone()))?;
    let delimiter = spec.delimiter_byte();
    let width = spec.columns.len();
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 8);

    std::thread::scope(|s| {
        let (work_tx, work_rx) = sync_channel::<(usize, Result<Block, IngestError>)>(workers);
        let work_rx = Arc::new(Mutex::new(work_rx));
        let (done_tx, done_rx) = sync_channel::<(usize, crate::Result<(T, u64)>)>(workers);
        s.spawn(move || {
            for (i, block) in blocks.enumerate() {
                if stop.load(Ordering::Relaxed) || work_tx.send((i, block)).is_err() {
                    break;
                }
            }
        });
        for _ in 0..workers {
            let work_rx = Arc::clone(&work_rx);
            let done_tx = done_tx.clone();
            let format = &format;
            let prepare = &prepare;
            s.spawn(move || loop {
                let item = match work_rx.lock() {
                    Ok(rx) => rx.recv(),
                    Err(_) => break,
                };
                let Ok((i, block)) = item else { break };
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let parsed = block
                    .and_then(|b| {
                        parse_chunk(&b.text, b.first_line, delimiter, width, cols, format, stop)
                            .map(|c| (c, b.read_to))
                    })
                    .map_err(crate::Error::from)
                    .and_then(|(p, read_to)| Ok((prepare(i, p)?, read_to)));
                if done_tx.send((i, parsed)).is_err() {
                    break;
                }
            });
        }
        drop(done_tx);
        drop(work_rx);

        let mut pending = std::collections::BTreeMap::new();
        let mut next = 0usize;
        let result = (|| {
            for (i, parsed) in done_rx.iter() {
                pending.insert(i, parsed);
                while let Some(parsed) = pending.remove(&next) {
                    next += 1;
                    let (value, read_to) = parsed?;
                    each(value, read_to)?;
                }
            }
            if stop.load(Ordering::Relaxed) {
                return Err(IngestError::Stopped.into());
            }
            Ok(())
        })();
        if result.is_err() {
            stop.store(true, Ordering::Relaxed);
        }
        drop(done_rx);
        result
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blocks(text: &[u8], size: usize) -> Vec<(String, u64)> {
        BlockReader::new(text, Encoding::Utf8, size)
            .map(|b| b.map(|b| (b.text, b.first_line)).unwrap())
            .collect()
    }

    #[test]
    fn blocks_end_at_records_and_count_lines() {
        let mut csv = String::from("a,b\n");
        for i in 0..500 {
            if i % 7 == 0 {
                csv.push_str(&format!("\"multi\nline {i}\",{i}\n"));
            } else {
                csv.push_str(&format!("x{i},{i}\n"));
            }
        }
        let got = blocks(csv.as_bytes(), 1024);
        assert!(got.len() > 3, "{} blocks", got.len());
        let joined: String = got.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(joined, &csv[4..]);
        let mut line = 2;
        for (text, first) in &got {
            assert_eq!(*first, line);
            assert_eq!(
                text.matches('"').count() % 2,
                0,
                "a block ends inside quotes"
            );
            line += text.matches('\n').count() as u64;
        }
    }

    #[test]
    fn the_bom_the_header_and_a_record_longer_than_a_block() {
        let long = "y".repeat(5000);
        let csv = format!("\u{feff}\"h\nh\",b\n{long},1\nz,2");
        let got = blocks(csv.as_bytes(), 1024);
        let joined: String = got.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(joined, format!("{long},1\nz,2"));
        assert_eq!(got[0].1, 3);
        assert!(blocks(b"only,a header", 1024).is_empty());
    }

    #[test]
    fn a_bad_byte_is_named_at_its_offset_in_the_file() {
        let mut csv = b"a,b\n".to_vec();
        for _ in 0..100 {
            csv.extend_from_slice(b"xxxxxxxxxx,1\n");
        }
        let at = csv.len();
        csv.extend_from_slice(b"\xff,2\n");
        let err = BlockReader::new(&csv[..], Encoding::Utf8, 1024)
            .find_map(Result::err)
            .unwrap();
        match err {
            IngestError::Encoding { offset, byte, .. } => {
                assert_eq!((offset, byte), (at, 0xff));
            }
            e => panic!("{e}"),
        }
    }
}
