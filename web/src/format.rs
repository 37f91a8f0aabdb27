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
        format!("{n} records")
    }
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
        assert_eq!(time(1_767_225_600_000.0), "2026-01-01 00:00 UTC");
    }
}
