//! Text encodings: what the user declared, else detected: UTF-8 (with or
//! without a byte-order mark), then Windows-1252 when bytes 0x80–0x9F
//! appear (Excel's "CSV" on Windows: ’ is 0x92, € 0x80), then Latin-1.

use super::*;

/// Text encodings Tablero reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Encoding {
    /// UTF-8 (a leading byte-order mark is skipped).
    #[serde(rename = "utf-8")]
    Utf8,
    /// ISO-8859-1. Bytes 0x80–0x9F are control characters there and are
    /// refused, since they only appear when the file is really in another
    /// encoding.
    #[serde(rename = "latin-1")]
    Latin1,
    /// Windows-1252 (Excel's CSVs on Windows): Latin-1 with printable
    /// characters at 0x80–0x9F (€, ’, “, …), decoded as browsers decode
    /// it (the five unassigned bytes as the C1 controls of the same value).
    #[serde(rename = "windows-1252")]
    Windows1252,
}

/// Windows-1252's characters at 0x80–0x9F (WHATWG's index; the five bytes
/// it leaves unassigned map to the C1 control of the same value).
const CP1252_HIGH: [char; 32] = [
    '\u{20AC}', '\u{0081}', '\u{201A}', '\u{0192}', '\u{201E}', '\u{2026}', '\u{2020}', '\u{2021}',
    '\u{02C6}', '\u{2030}', '\u{0160}', '\u{2039}', '\u{0152}', '\u{008D}', '\u{017D}', '\u{008F}',
    '\u{0090}', '\u{2018}', '\u{2019}', '\u{201C}', '\u{201D}', '\u{2022}', '\u{2013}', '\u{2014}',
    '\u{02DC}', '\u{2122}', '\u{0161}', '\u{203A}', '\u{0153}', '\u{009D}', '\u{017E}', '\u{0178}',
];

/// Bytes in 0x80–0x9F, each one Windows-1252 assigns a character (not
/// 0x81, 0x8D, 0x8F, 0x90, 0x9D: a file with those is in neither).
fn looks_cp1252(bytes: &[u8]) -> bool {
    let mut high = bytes
        .iter()
        .filter(|b| (0x80..=0x9F).contains(*b))
        .peekable();
    high.peek().is_some() && high.all(|b| !matches!(b, 0x81 | 0x8D | 0x8F | 0x90 | 0x9D))
}

pub(super) fn decode_cp1252(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| match b {
            0x80..=0x9F => CP1252_HIGH[usize::from(b - 0x80)],
            b => b as char,
        })
        .collect()
}

impl Encoding {
    /// Every encoding, as `--encoding` and the upload dialog offer them.
    pub const ALL: [Encoding; 3] = [Encoding::Utf8, Encoding::Windows1252, Encoding::Latin1];

    /// Parses `utf-8` / `utf8` / `windows-1252` / `cp1252` / `latin-1` /
    /// `latin1` / `iso-8859-1`.
    pub fn from_name(s: &str) -> Option<Encoding> {
        match s.to_ascii_lowercase().replace('_', "-").as_str() {
            "utf-8" | "utf8" => Some(Encoding::Utf8),
            "windows-1252" | "windows1252" | "cp1252" | "cp-1252" | "win-1252" => {
                Some(Encoding::Windows1252)
            }
            "latin-1" | "latin1" | "iso-8859-1" | "iso8859-1" => Some(Encoding::Latin1),
            _ => None,
        }
    }

    /// The name used in specs and messages.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Utf8 => "utf-8",
            Encoding::Latin1 => "latin-1",
            Encoding::Windows1252 => "windows-1252",
        }
    }
}

/// Decodes the file's bytes: returns the text and the encoding used.
///
/// Without a declared encoding, UTF-8 is tried first; bytes that are not
/// UTF-8 are Windows-1252 when some are in 0x80–0x9F (Latin-1's
/// unprintable controls, which only appear in such a file) and each of
/// those is a Windows-1252 character, else Latin-1 (which refuses them).
pub fn decode(
    bytes: &[u8],
    declared: Option<Encoding>,
) -> Result<(Cow<'_, str>, Encoding), IngestError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match declared {
        Some(Encoding::Utf8) => std::str::from_utf8(bytes)
            .map(|s| (Cow::Borrowed(s), Encoding::Utf8))
            .map_err(|e| {
                let offset = e.valid_up_to();
                IngestError::Encoding {
                    encoding: "utf-8",
                    offset: offset + bom_len(bytes),
                    byte: bytes[offset],
                }
            }),
        Some(Encoding::Latin1) => decode_latin1(bytes).map(|s| (Cow::Owned(s), Encoding::Latin1)),
        Some(Encoding::Windows1252) => {
            Ok((Cow::Owned(decode_cp1252(bytes)), Encoding::Windows1252))
        }
        None => match std::str::from_utf8(bytes) {
            Ok(s) => Ok((Cow::Borrowed(s), Encoding::Utf8)),
            Err(_) if looks_cp1252(bytes) => {
                Ok((Cow::Owned(decode_cp1252(bytes)), Encoding::Windows1252))
            }
            Err(_) => decode_latin1(bytes).map(|s| (Cow::Owned(s), Encoding::Latin1)),
        },
    }
}

pub(super) fn bom_len(_after_bom: &[u8]) -> usize {
    0
}

pub(super) fn decode_latin1(bytes: &[u8]) -> Result<String, IngestError> {
    if let Some(offset) = bytes.iter().position(|&b| (0x80..=0x9F).contains(&b)) {
        return Err(IngestError::Encoding {
            encoding: "latin-1",
            offset,
            byte: bytes[offset],
        });
    }
    Ok(bytes.iter().map(|&b| b as char).collect())
}
