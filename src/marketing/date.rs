//! ISO 8601 dates and date-times as the fixtures write them
//! (`2026-11-28`, `2026-11-28T07:15:00`, `2026-11-27T19:12:00Z`,
//! `...+01:00`, fractional seconds), validated (month, day of month with leap
//! years, hour, minute, second) and turned into seconds since 1970-01-01.
//! Times without a zone are taken as they are (visitor-local).

/// A point in time, seconds since 1970-01-01T00:00:00 (UTC when a zone was given).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Instant(pub f64);

impl Instant {
    /// Days from `self` to `later` (negative when `later` is earlier).
    pub fn days_until(self, later: Instant) -> f64 {
        (later.0 - self.0) / 86_400.0
    }
    /// Hour of the day, 0..24.
    pub fn hour(self) -> u32 {
        ((self.0.rem_euclid(86_400.0)) / 3600.0) as u32
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

fn digits(s: &str, n: usize) -> Option<u32> {
    (s.len() == n && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

/// Parses a date or date-time; `Err` says what is wrong.
pub fn parse(s: &str) -> Result<Instant, String> {
    let s = s.trim();
    if s.len() < 10 || !s.is_ascii() {
        return Err(format!(
            "'{}' is not a date (expected YYYY-MM-DD)",
            s.chars().take(40).collect::<String>()
        ));
    }
    let (date, rest) = s.split_at(10);
    let bad_date = || format!("'{date}' is not a date (expected YYYY-MM-DD)");
    let parts: Vec<&str> = date.split('-').collect();
    if parts.len() != 3 {
        return Err(bad_date());
    }
    let y = digits(parts[0], 4).ok_or_else(bad_date)? as i64;
    let m = digits(parts[1], 2).ok_or_else(bad_date)?;
    let d = digits(parts[2], 2).ok_or_else(bad_date)?;
    if !(1..=12).contains(&m) {
        return Err(format!("month {m} in '{date}' is not 1..12"));
    }
    if d == 0 || d > days_in_month(y, m) {
        return Err(format!("day {d} in '{date}' does not exist"));
    }
    let mut secs = days_from_civil(y, m, d) as f64 * 86_400.0;
    if rest.is_empty() {
        return Ok(Instant(secs));
    }
    let rest = rest
        .strip_prefix(['T', 't', ' '])
        .ok_or_else(|| format!("unexpected '{rest}' after the date"))?;
    // Split off the zone: 'Z' or ±HH:MM / ±HHMM.
    let (time, zone) = match rest.find(['Z', 'z', '+', '-']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let tparts: Vec<&str> = time.split(':').collect();
    if tparts.len() < 2 || tparts.len() > 3 {
        return Err(format!("'{time}' is not a time (expected HH:MM[:SS])"));
    }
    let bad_time = || format!("'{time}' is not a time (expected HH:MM[:SS])");
    let h = digits(tparts[0], 2).ok_or_else(bad_time)?;
    let min = digits(tparts[1], 2).ok_or_else(bad_time)?;
    let sec = match tparts.get(2) {
        Some(sp) => {
            let whole = sp.split('.').next().unwrap_or("");
            let frac = sp.get(whole.len() + 1..).unwrap_or("0");
            if !frac.bytes().all(|b| b.is_ascii_digit()) || frac.is_empty() {
                return Err(bad_time());
            }
            digits(whole, 2).ok_or_else(bad_time)? as f64
        }
        None => 0.0,
    };
    if h > 23 || min > 59 || sec >= 61.0 {
        return Err(format!("'{time}' is out of range"));
    }
    secs += h as f64 * 3600.0 + min as f64 * 60.0 + sec;
    match zone {
        "" | "Z" | "z" => {}
        z => {
            let sign = if z.starts_with('-') { -1.0 } else { 1.0 };
            let hm = z[1..].replace(':', "");
            let (zh, zm) = (
                digits(hm.get(..2).unwrap_or(""), 2),
                digits(hm.get(2..).unwrap_or(""), 2),
            );
            match (zh, zm) {
                (Some(zh), Some(zm)) if zh <= 14 && zm < 60 => {
                    secs -= sign * (zh as f64 * 3600.0 + zm as f64 * 60.0)
                }
                _ => return Err(format!("'{z}' is not a time zone offset")),
            }
        }
    }
    Ok(Instant(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_fixture_forms() {
        let day = parse("2026-11-28").unwrap();
        let t = parse("2026-11-28T07:15:00").unwrap();
        assert_eq!(t.0 - day.0, 7.0 * 3600.0 + 15.0 * 60.0);
        assert_eq!(t.hour(), 7);
        let z = parse("2026-11-27T19:12:00Z").unwrap();
        let off = parse("2026-11-27T20:12:00+01:00").unwrap();
        assert_eq!(z, off);
        assert!(parse("2026-11-27T19:12:00.250Z").is_ok());
        assert_eq!(parse("1970-01-02").unwrap().0, 86_400.0);
    }

    #[test]
    fn rejects_impossible_dates() {
        for bad in [
            "2026-02-30",
            "2026-13-01",
            "yesterday",
            "2026-11-28T25:00",
            "2026/11/28",
            "2026-11-28T10:00:00+99:00",
            "",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert!(parse("2024-02-29").is_ok());
        assert!(parse("2025-02-29").is_err());
    }
}
