//! Time ranges as users write them: `30m`, `1h`, `24h`, `7d`, or a UTC date.

use serde::{Deserialize, Serialize};
use tablero_core::dates;
use tablero_core::ports::{BackendError, ErrorKind, Result};

/// The start of a range, RFC 3339 UTC: `spec` ago (`30m`, `1h`, `7d`) or
/// the date given (`YYYY-MM-DD[ HH:MM:SS]`, UTC). The error is `usage`.
///
/// ```
/// assert!(tablero_app::time::since("24h").unwrap().ends_with('Z'));
/// assert_eq!(tablero_app::time::since("2011-01-01").unwrap(), "2011-01-01T00:00:00.000Z");
/// assert!(tablero_app::time::since("yesterday").is_err());
/// ```
pub fn since(spec: &str) -> Result<String> {
    let s = spec.trim();
    let now = chrono::Utc::now();
    let ago = |n: &str, unit: i64| {
        n.parse::<i64>()
            .ok()
            .map(|n| now - chrono::Duration::seconds(n * unit))
    };
    let t = if let Some(n) = s.strip_suffix('h') {
        ago(n, 3600)
    } else if let Some(n) = s.strip_suffix('d') {
        ago(n, 86_400)
    } else if let Some(n) = s.strip_suffix('m') {
        ago(n, 60)
    } else {
        dates::parse_user_timestamp(s).map(chrono::DateTime::from_timestamp_nanos)
    };
    t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .ok_or_else(|| {
            BackendError::new(
                ErrorKind::Usage,
                format!("{s:?}: use 1h, 24h, 7d or 'YYYY-MM-DD[ HH:MM:SS]'"),
            )
        })
}

/// The ranges the panel offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum TimeRange {
    /// The last hour.
    #[serde(rename = "1h")]
    LastHour,
    /// The last day.
    #[serde(rename = "24h")]
    LastDay,
    /// The last week.
    #[serde(rename = "7d")]
    LastWeek,
}

impl TimeRange {
    /// `1h`, `24h` or `7d`.
    pub fn spec(self) -> &'static str {
        match self {
            TimeRange::LastHour => "1h",
            TimeRange::LastDay => "24h",
            TimeRange::LastWeek => "7d",
        }
    }

    /// Its start, RFC 3339 UTC.
    pub fn since(self) -> String {
        // A fixed spec always parses.
        since(self.spec()).unwrap_or_default()
    }
}
