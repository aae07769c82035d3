//! Cookie `expires=` dates, written exactly as JavaScript's
//! `Date.prototype.toUTCString()` writes them, because the reference SDK builds
//! its `Set-Cookie` strings that way and we promise byte-identical headers.

/// An expiry instant as JavaScript sees it: milliseconds since the epoch, or
/// "Invalid Date" (what `new Date("garbage")` is). The JS layer computes it with
/// `Date.parse`, so every date format JavaScript accepts behaves the same here.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum JsTime {
    Millis(f64),
    Invalid,
}

impl JsTime {
    /// JavaScript dates are limited to ±8.64e15 ms; beyond that `new Date(x)` is invalid.
    pub fn from_millis(ms: f64) -> JsTime {
        if ms.is_finite() && ms.abs() <= 8.64e15 {
            JsTime::Millis(ms.trunc())
        } else {
            JsTime::Invalid
        }
    }
}

const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// Days since 1970-01-01 to (year, month 1-12, day 1-31), proleptic Gregorian.
/// Howard Hinnant's `civil_from_days`, valid over JavaScript's whole date range.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + if month <= 2 { 1 } else { 0 };
    (year, month, day)
}

/// An instant split into calendar fields (UTC).
struct Fields {
    days: i64,
    year: i64,
    month: u32,
    day: u32,
    secs_of_day: i64,
    millis: i64,
}

fn fields(ms: i64) -> Fields {
    let days = ms.div_euclid(86_400_000);
    let ms_of_day = ms.rem_euclid(86_400_000);
    let (year, month, day) = civil_from_days(days);
    Fields { days, year, month, day, secs_of_day: ms_of_day / 1000, millis: ms_of_day % 1000 }
}

impl Fields {
    fn clock(&self) -> String {
        let s = self.secs_of_day;
        format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    }
}

/// `new Date(ms).toUTCString()`, e.g. `Wed, 02 Jan 2030 03:04:05 GMT`.
pub fn to_utc_string(time: JsTime) -> String {
    let JsTime::Millis(ms) = time else {
        return "Invalid Date".to_string();
    };
    let f = fields(ms as i64);
    let year = if f.year < 0 { format!("-{:04}", -f.year) } else { format!("{:04}", f.year) };
    format!(
        "{}, {:02} {} {year} {} GMT",
        WEEKDAYS[f.days.rem_euclid(7) as usize],
        f.day,
        MONTHS[(f.month - 1) as usize],
        f.clock()
    )
}

/// `new Date(ms).toISOString()`, used in the "expired at" message.
pub fn to_iso_string(ms: f64) -> Option<String> {
    let JsTime::Millis(ms) = JsTime::from_millis(ms) else {
        return None;
    };
    let f = fields(ms as i64);
    let year = if (0..=9999).contains(&f.year) {
        format!("{:04}", f.year)
    } else if f.year < 0 {
        format!("-{:06}", -f.year)
    } else {
        format!("+{:06}", f.year)
    };
    Some(format!("{year}-{:02}-{:02}T{}.{:03}Z", f.month, f.day, f.clock(), f.millis))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_to_utc_string() {
        assert_eq!(to_utc_string(JsTime::Millis(0.0)), "Thu, 01 Jan 1970 00:00:00 GMT");
        // Date.UTC(2030, 0, 2, 3, 4, 5)
        assert_eq!(to_utc_string(JsTime::Millis(1_893_553_445_000.0)), "Wed, 02 Jan 2030 03:04:05 GMT");
        assert_eq!(to_utc_string(JsTime::Millis(-1.0)), "Wed, 31 Dec 1969 23:59:59 GMT");
        assert_eq!(to_utc_string(JsTime::Millis(8.64e15)), "Sat, 13 Sep 275760 00:00:00 GMT");
        assert_eq!(to_utc_string(JsTime::Millis(-62_198_755_200_000.0)), "Fri, 01 Jan -0001 00:00:00 GMT");
        assert_eq!(to_utc_string(JsTime::Invalid), "Invalid Date");
        assert_eq!(JsTime::from_millis(f64::NAN), JsTime::Invalid);
        assert_eq!(JsTime::from_millis(8.7e15), JsTime::Invalid);
    }

    #[test]
    fn formats_like_to_iso_string() {
        assert_eq!(to_iso_string(0.0).unwrap(), "1970-01-01T00:00:00.000Z");
        assert_eq!(to_iso_string(1_893_553_445_123.0).unwrap(), "2030-01-02T03:04:05.123Z");
        assert_eq!(to_iso_string(8.64e15).unwrap(), "+275760-09-13T00:00:00.000Z");
        assert!(to_iso_string(f64::INFINITY).is_none());
    }
}
