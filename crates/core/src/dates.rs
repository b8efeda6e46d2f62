//! Timestamps as nanoseconds since 1970-01-01 00:00:00 (naive, no time zone),
//! the unit pandas uses, so cut-offs computed here match the pipeline this
//! product replaces to the nanosecond.

/// Nanoseconds in one day.
pub const DAY_NS: i64 = 86_400_000_000_000;

/// A date format in the strftime subset Tablero understands:
/// `%Y` (4 digits), `%m` `%d` `%H` `%M` `%S` (1 or 2 digits), `%y` (2 digits,
/// 2000–2099... see [`parse`]), and literal characters.
///
/// ```
/// use tablero_core::dates::{DateFormat, format_ns};
/// let f = DateFormat::new("%m/%d/%Y %H:%M").unwrap();
/// let ns = f.parse("12/1/2010 8:26").unwrap();
/// assert_eq!(format_ns(ns), "2010-12-01 08:26:00");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateFormat {
    pattern: String,
    items: Vec<Item>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Item {
    Year4,
    Year2,
    Month,
    Day,
    Hour,
    Minute,
    Second,
    Literal(u8),
}

/// The formats tried, in order, when a file's date format is not given.
/// Month-first comes before day-first; detection switches to day-first when a
/// value's first field is above 12.
pub const CANDIDATE_FORMATS: &[&str] = &[
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
    "%Y%m%d",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d",
];

impl DateFormat {
    /// Compiles a pattern; `None` when it uses an unsupported directive or
    /// has no year, month and day.
    pub fn new(pattern: &str) -> Option<DateFormat> {
        let bytes = pattern.as_bytes();
        let mut items = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' {
                let item = match bytes.get(i + 1)? {
                    b'Y' => Item::Year4,
                    b'y' => Item::Year2,
                    b'm' => Item::Month,
                    b'd' => Item::Day,
                    b'H' => Item::Hour,
                    b'M' => Item::Minute,
                    b'S' => Item::Second,
                    b'%' => Item::Literal(b'%'),
                    _ => return None,
                };
                items.push(item);
                i += 2;
            } else {
                items.push(Item::Literal(bytes[i]));
                i += 1;
            }
        }
        let has = |w: Item| items.contains(&w);
        if !(has(Item::Year4) || has(Item::Year2)) || !has(Item::Month) || !has(Item::Day) {
            return None;
        }
        Some(DateFormat {
            pattern: pattern.to_string(),
            items,
        })
    }

    /// The pattern this format was made from.
    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    /// Parses one value (already trimmed) into nanoseconds since the epoch.
    pub fn parse(&self, s: &str) -> Option<i64> {
        let b = s.as_bytes();
        let mut pos = 0usize;
        let (mut y, mut mo, mut d, mut h, mut mi, mut se) = (0i64, 0u32, 0u32, 0u32, 0u32, 0u32);
        // Fields without a separator after them (as in %Y%m%d) take exactly
        // two digits; otherwise one or two.
        for (idx, item) in self.items.iter().enumerate() {
            let fixed = !matches!(self.items.get(idx + 1), Some(Item::Literal(_)) | None);
            match *item {
                Item::Literal(c) => {
                    if b.get(pos) != Some(&c) {
                        return None;
                    }
                    pos += 1;
                }
                Item::Year4 => y = digits(b, &mut pos, 4, 4)? as i64,
                Item::Year2 => y = 2000 + digits(b, &mut pos, 2, 2)? as i64,
                other => {
                    let min = if fixed { 2 } else { 1 };
                    let v = digits(b, &mut pos, min, 2)?;
                    match other {
                        Item::Month => mo = v,
                        Item::Day => d = v,
                        Item::Hour => h = v,
                        Item::Minute => mi = v,
                        _ => se = v,
                    }
                }
            }
        }
        let mut frac_ns = 0i64;
        // Optional fractional seconds after %S, as written by many exporters.
        if pos < b.len() && b[pos] == b'.' && matches!(self.items.last(), Some(Item::Second)) {
            pos += 1;
            let start = pos;
            let mut scale = 100_000_000i64;
            while pos < b.len() && b[pos].is_ascii_digit() {
                if scale > 0 {
                    frac_ns += (b[pos] - b'0') as i64 * scale;
                    scale /= 10;
                }
                pos += 1;
            }
            if pos == start {
                return None;
            }
        }
        if pos != b.len() {
            return None;
        }
        if !(1..=12).contains(&mo)
            || d == 0
            || d > days_in_month(y, mo)
            || h > 23
            || mi > 59
            || se > 60
        {
            return None;
        }
        let days = days_from_civil(y, mo, d);
        Some(
            days * DAY_NS
                + (h as i64 * 3600 + mi as i64 * 60 + se as i64) * 1_000_000_000
                + frac_ns,
        )
    }
}

fn digits(b: &[u8], pos: &mut usize, min: usize, max: usize) -> Option<u32> {
    let mut v = 0u32;
    let mut n = 0;
    while n < max && *pos < b.len() && b[*pos].is_ascii_digit() {
        v = v * 10 + (b[*pos] - b'0') as u32;
        *pos += 1;
        n += 1;
    }
    (n >= min).then_some(v)
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(y) => 29,
        _ => 28,
    }
}

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Civil date (year, month, day) of a count of days since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Day index (floor) of a timestamp.
pub fn day_of(ns: i64) -> i64 {
    ns.div_euclid(DAY_NS)
}

/// Weekday of a timestamp, Monday = 0 … Sunday = 6 (pandas `dayofweek`).
pub fn weekday(ns: i64) -> u32 {
    // 1970-01-01 was a Thursday.
    (day_of(ns) + 3).rem_euclid(7) as u32
}

/// Whole days from `from` to `to` (pandas `Timedelta.days`: floor).
pub fn whole_days(from: i64, to: i64) -> i64 {
    (to - from).div_euclid(DAY_NS)
}

/// `YYYY-MM-DD HH:MM:SS`, with `.fffffffff` only when there is a fraction.
pub fn format_ns(ns: i64) -> String {
    let (y, m, d) = civil_from_days(day_of(ns));
    let rem = ns.rem_euclid(DAY_NS);
    let secs = rem / 1_000_000_000;
    let frac = rem % 1_000_000_000;
    let base = format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        secs / 3600,
        (secs / 60) % 60,
        secs % 60
    );
    if frac == 0 {
        base
    } else {
        format!("{base}.{frac:09}")
    }
}

/// Parses a user-given cut-off: `YYYY-MM-DD` or `YYYY-MM-DD HH:MM[:SS]`.
pub fn parse_user_timestamp(s: &str) -> Option<i64> {
    let s = s.trim();
    [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d",
    ]
    .iter()
    .filter_map(|p| DateFormat::new(p))
    .find_map(|f| f.parse(s))
}

/// Picks the first candidate format that parses every sampled value.
/// Returns `None` when none does.
pub fn detect_format<'a>(samples: impl Iterator<Item = &'a str> + Clone) -> Option<DateFormat> {
    CANDIDATE_FORMATS
        .iter()
        .filter_map(|p| DateFormat::new(p))
        .find(|f| {
            let mut any = false;
            for s in samples.clone() {
                if s.is_empty() {
                    continue;
                }
                any = true;
                if f.parse(s).is_none() {
                    return false;
                }
            }
            any
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip() {
        for z in [-1000, 0, 1, 365, 14_944, 15_317, 20_000] {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(days_from_civil(2010, 12, 1), 14_944);
    }

    #[test]
    fn parses_the_variants_users_send() {
        let iso = DateFormat::new("%Y-%m-%d %H:%M:%S").unwrap();
        let us = DateFormat::new("%m/%d/%Y %H:%M").unwrap();
        let compact = DateFormat::new("%Y%m%d").unwrap();
        let a = iso.parse("2010-12-01 08:26:00").unwrap();
        assert_eq!(us.parse("12/1/2010 8:26"), Some(a));
        assert_eq!(
            compact.parse("20101201"),
            Some(a - (8 * 3600 + 26 * 60) * 1_000_000_000)
        );
        assert_eq!(iso.parse("2010-02-30 00:00:00"), None);
        assert_eq!(iso.parse("2010-12-01 08:26:00x"), None);
        assert_eq!(format_ns(a), "2010-12-01 08:26:00");
        assert_eq!(weekday(a), 2); // a Wednesday
    }

    #[test]
    fn detection_prefers_month_first_unless_impossible() {
        let f = detect_format(["12/1/2010 8:26", "1/13/2011 10:00"].into_iter()).unwrap();
        assert_eq!(f.pattern(), "%m/%d/%Y %H:%M");
        let f = detect_format(["13/1/2010 8:26", "1/12/2011 10:00"].into_iter()).unwrap();
        assert_eq!(f.pattern(), "%d/%m/%Y %H:%M");
        assert!(detect_format(["yesterday"].into_iter()).is_none());
    }

    #[test]
    fn whole_days_floor_like_pandas() {
        let f = DateFormat::new("%Y-%m-%d %H:%M").unwrap();
        let a = f.parse("2011-01-01 10:00").unwrap();
        let b = f.parse("2011-01-02 09:59").unwrap();
        assert_eq!(whole_days(a, b), 0);
        assert_eq!(whole_days(b, a), -1);
    }
}
