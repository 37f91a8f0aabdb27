//! How the page writes sizes, counts and times for people.

/// Human-sized bytes: "1.5 MB". Decimal units, as browsers report storage quotas.
pub fn bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["bytes", "KB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} bytes")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// "1 record", "3 records".
pub fn records(n: usize) -> String {
    if n == 1 {
        "1 record".into()
    } else {
        format!("{} records", count(n as u64))
    }
}

/// "1,234": a count with thousands separators.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// "1,234 of 10,000 records", "0 of 1 record": the noun agrees with the total.
pub fn records_of(done: u64, total: u64) -> String {
    let noun = if total == 1 { "record" } else { "records" };
    format!("{} of {} {noun}", count(done), count(total))
}

/// A backup's size: its file's, or, for one held in place in the database (no file yet),
/// where it is.
pub fn backup_size(manifest: &rewind::backup::BackupManifest) -> String {
    match manifest.in_place {
        true => HELD_IN_PLACE.to_string(),
        false => bytes(manifest.bytes),
    }
}

/// What the page says of a backup held in place instead of its size.
pub const HELD_IN_PLACE: &str = "kept in the database (made into a file when downloaded)";

/// "12.0 MB of 96.0 MB".
pub fn bytes_of(done: u64, total: u64) -> String {
    format!("{} of {}", bytes(done), bytes(total))
}

/// "about 40 seconds left", "about 1 minute left", "about 2 hours left", "almost done"; `None`
/// for a time that is not one (negative, infinite or NaN), which is then not shown.
pub fn time_left(ms: f64) -> Option<String> {
    if !ms.is_finite() || ms < 0.0 {
        return None;
    }
    let seconds = (ms / 1000.0).round() as u64;
    let plural = |n: u64, unit: &str| {
        if n == 1 {
            format!("about 1 {unit} left")
        } else {
            format!("about {n} {unit}s left")
        }
    };
    Some(match seconds {
        0 => "almost done".into(),
        1..=59 => plural(seconds, "second"),
        60..=5399 => plural((seconds + 30) / 60, "minute"),
        _ => plural((seconds + 1800) / 3600, "hour"),
    })
}

/// "2026-11-26 17:18 UTC" for milliseconds since the epoch: the same clock as backup ids,
/// without the seconds nobody compares.
pub fn time(ms: f64) -> String {
    let stamp = rewind::backup::utc_stamp(ms);
    // YYYYMMDDTHHMMSSZ
    format!(
        "{}-{}-{} {}:{} UTC",
        &stamp[0..4],
        &stamp[4..6],
        &stamp[6..8],
        &stamp[9..11],
        &stamp[11..13]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_counts_and_times_read_well() {
        assert_eq!(bytes(999), "999 bytes");
        assert_eq!(bytes(1_500_000), "1.5 MB");
        assert_eq!(records(1), "1 record");
        assert_eq!(records(0), "0 records");
        assert_eq!(records(3218), "3,218 records");
        assert_eq!(time(1_767_225_600_000.0), "2026-01-01 00:00 UTC");
    }

    #[test]
    fn counts_have_thousands_separators_and_agree_with_their_noun() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1_000), "1,000");
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(records_of(1_234, 10_000), "1,234 of 10,000 records");
        assert_eq!(records_of(0, 1), "0 of 1 record");
        assert_eq!(records_of(1, 1), "1 of 1 record");
        assert_eq!(bytes_of(12_000_000, 96_000_000), "12.0 MB of 96.0 MB");
        assert_eq!(bytes_of(0, 999), "0 bytes of 999 bytes");
    }

    #[test]
    fn time_left_reads_in_seconds_minutes_or_hours_and_never_shows_nonsense() {
        assert_eq!(
            time_left(40_000.0).as_deref(),
            Some("about 40 seconds left")
        );
        assert_eq!(time_left(1_200.0).as_deref(), Some("about 1 second left"));
        assert_eq!(time_left(300.0).as_deref(), Some("almost done"));
        assert_eq!(time_left(0.0).as_deref(), Some("almost done"));
        assert_eq!(
            time_left(59_000.0).as_deref(),
            Some("about 59 seconds left")
        );
        assert_eq!(time_left(60_000.0).as_deref(), Some("about 1 minute left"));
        assert_eq!(
            time_left(150_000.0).as_deref(),
            Some("about 3 minutes left")
        );
        assert_eq!(
            time_left(89.0 * 60_000.0).as_deref(),
            Some("about 89 minutes left")
        );
        assert_eq!(
            time_left(90.0 * 60_000.0).as_deref(),
            Some("about 2 hours left")
        );
        assert_eq!(
            time_left(3_600_000.0 * 5.0).as_deref(),
            Some("about 5 hours left")
        );
        for nonsense in [-1.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert_eq!(time_left(nonsense), None, "{nonsense}");
        }
    }
}
