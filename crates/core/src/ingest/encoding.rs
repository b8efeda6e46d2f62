//! Text encodings: UTF-8 first, Latin-1 second, or what the user declared.

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
}

impl Encoding {
    /// Parses `utf-8` / `utf8` / `latin-1` / `latin1` / `iso-8859-1`.
    pub fn from_name(s: &str) -> Option<Encoding> {
        match s.to_ascii_lowercase().replace('_', "-").as_str() {
            "utf-8" | "utf8" => Some(Encoding::Utf8),
            "latin-1" | "latin1" | "iso-8859-1" | "iso8859-1" => Some(Encoding::Latin1),
            _ => None,
        }
    }

    /// The name used in specs and messages.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Utf8 => "utf-8",
            Encoding::Latin1 => "latin-1",
        }
    }
}

/// Decodes the file's bytes: returns the text and the encoding used.
///
/// Without a declared encoding, UTF-8 is tried first and Latin-1 second.
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
        None => match std::str::from_utf8(bytes) {
            Ok(s) => Ok((Cow::Borrowed(s), Encoding::Utf8)),
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
