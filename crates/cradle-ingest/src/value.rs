//! Typed interpretation of one cell's text: numbers with either decimal
//! separator, units, booleans, dates, "no value" markers and GTINs.
//!
//! Interpretation never replaces the text: callers store the original next
//! to whatever is parsed here, so nothing is lost when a guess is wrong.

/// What a cell's text means, as far as can be told without its column.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Typed<'a> {
    pub number: Option<f64>,
    pub unit: Option<&'a str>,
    pub boolean: Option<bool>,
    /// Days since 1970-01-01.
    pub date: Option<i32>,
    /// `k.A.`, `n/a`, `-` and their kin: a deliberate "no value".
    pub no_value: bool,
}

/// Which character separates the integer from the fraction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecimalSeparator {
    Comma,
    Point,
}

impl DecimalSeparator {
    pub fn as_str(self) -> &'static str {
        match self {
            DecimalSeparator::Comma => ",",
            DecimalSeparator::Point => ".",
        }
    }
}

const NO_VALUE_MARKERS: &[&str] = &[
    "-",
    "--",
    "---",
    "–",
    "—",
    "k.a.",
    "k. a.",
    "ka",
    "k.a",
    "n/a",
    "n.a.",
    "na",
    "n.v.",
    "nv",
    "keine angabe",
    "not available",
    "none",
    "null",
    "/",
    "?",
];

pub fn is_no_value(text: &str) -> bool {
    is_no_value_trimmed(text.trim())
}

fn is_no_value_trimmed(trimmed: &str) -> bool {
    trimmed.len() <= 16 && NO_VALUE_MARKERS.iter().any(|marker| same(trimmed, marker))
}

/// Equal but for ASCII case; the length is compared here, in line, because
/// most candidates differ in it.
#[inline(always)]
fn same(text: &str, candidate: &str) -> bool {
    text.len() == candidate.len() && text.eq_ignore_ascii_case(candidate)
}

/// Booleans as ERP exports spell them. `x` means "ticked"; `1`/`0` are left
/// to the number parser and only read as booleans in boolean columns.
pub fn parse_bool(text: &str) -> Option<bool> {
    parse_bool_trimmed(text.trim())
}

fn parse_bool_trimmed(trimmed: &str) -> Option<bool> {
    if trimmed.len() > 6 {
        return None;
    }
    const TRUE: &[&str] = &["ja", "yes", "true", "wahr", "x", "j", "y", "✓"];
    const FALSE: &[&str] = &["nein", "no", "false", "falsch", "n"];
    if TRUE.iter().any(|t| same(trimmed, t)) {
        Some(true)
    } else if FALSE.iter().any(|f| same(trimmed, f)) {
        Some(false)
    } else {
        None
    }
}

/// Interprets a cell. `decimal` is the file's separator; a value that only
/// makes sense with the other one (`12.5` in a comma file) is still read.
pub fn parse(text: &str, decimal: DecimalSeparator) -> Typed<'_> {
    let trimmed = text.trim();
    let mut typed = Typed::default();
    if trimmed.is_empty() {
        return typed;
    }
    let first = trimmed.as_bytes()[0];
    if first.is_ascii_digit() || first == b'-' || first == b'+' || first == b'.' || first == b',' {
        if let Some(date) = parse_date(trimmed) {
            typed.date = Some(date);
            return typed;
        }
        if let Some((number, unit)) = parse_number_with_unit(trimmed, decimal) {
            typed.number = Some(number);
            typed.unit = unit;
            return typed;
        }
    }
    if is_no_value_trimmed(trimmed) {
        typed.no_value = true;
        return typed;
    }
    typed.boolean = parse_bool_trimmed(trimmed);
    typed
}

/// `12,5 W`, `3.000 lm`, `-20 °C`, `1.234,56`, `0.5`: the number and an
/// optional unit of at most 8 characters that starts with a letter, `°`, `%`
/// or `µ`.
pub fn parse_number_with_unit(
    text: &str,
    decimal: DecimalSeparator,
) -> Option<(f64, Option<&str>)> {
    let bytes = text.as_bytes();
    let mut end = 0;
    while end < bytes.len()
        && matches!(
            bytes[end],
            b'0'..=b'9' | b'.' | b',' | b'-' | b'+' | b'\'' | b'e' | b'E'
        )
    {
        // An `e` only belongs to the number as an exponent followed by a digit or sign.
        if matches!(bytes[end], b'e' | b'E') {
            let next = bytes.get(end + 1).copied();
            if end == 0 || !matches!(next, Some(b'0'..=b'9' | b'-' | b'+')) {
                break;
            }
        }
        end += 1;
    }
    if end == 0 {
        return None;
    }
    let number = parse_number(&text[..end], decimal)?;
    let rest = text[end..].trim_start();
    if rest.is_empty() {
        return Some((number, None));
    }
    let unit_ok = rest.chars().count() <= 8
        && rest
            .chars()
            .next()
            .is_some_and(|c| c.is_alphabetic() || matches!(c, '°' | '%' | 'µ' | '€' | '$' | 'Ω'))
        && rest.chars().all(|c| {
            c.is_alphanumeric()
                || matches!(
                    c,
                    '°' | '%' | 'µ' | '/' | '²' | '³' | '€' | '$' | 'Ω' | '.' | '·'
                )
        });
    unit_ok.then_some((number, Some(rest)))
}

/// A plain number with thousands separators in either convention.
pub fn parse_number(text: &str, decimal: DecimalSeparator) -> Option<f64> {
    let text = text.trim();
    if text.is_empty() || text.len() > 40 {
        return None;
    }
    // Most numbers are plain digits, perhaps with a sign: no rewriting needed.
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse::<f64>().ok();
    }
    let (sign, digits) = match text.as_bytes()[0] {
        b'-' => (-1.0, &text[1..]),
        b'+' => (1.0, &text[1..]),
        _ => (1.0, text),
    };
    if digits.is_empty() || digits.contains(['-', '+']) && !digits.contains(['e', 'E']) {
        return None;
    }
    let commas = digits.matches(',').count();
    let points = digits.matches('.').count();
    let (thousands, fraction) = match (commas, points) {
        (0, 0) => (None, None),
        (1, 0) => {
            // `1,234` is a thousands group only in a point file.
            if decimal == DecimalSeparator::Point && is_grouped(digits, ',') {
                (Some(','), None)
            } else {
                (None, Some(','))
            }
        }
        (0, 1) => {
            if decimal == DecimalSeparator::Comma && is_grouped(digits, '.') {
                (Some('.'), None)
            } else {
                (None, Some('.'))
            }
        }
        (_, 0) if is_grouped(digits, ',') => (Some(','), None),
        (0, _) if is_grouped(digits, '.') => (Some('.'), None),
        (_, 1) if digits.rfind('.') > digits.rfind(',') => (Some(','), Some('.')),
        (1, _) if digits.rfind(',') > digits.rfind('.') => (Some('.'), Some(',')),
        _ => return None,
    };
    let mut normalized = String::with_capacity(digits.len());
    for ch in digits.chars() {
        if Some(ch) == thousands || ch == '\'' {
            continue;
        }
        if Some(ch) == fraction {
            normalized.push('.');
        } else {
            normalized.push(ch);
        }
    }
    if let Some(sep) = thousands {
        let integer = digits
            .split(fraction.unwrap_or('\u{0}'))
            .next()
            .unwrap_or("");
        if !is_grouped(integer, sep) {
            return None;
        }
    }
    if normalized.starts_with('.') || normalized.ends_with('.') {
        return None;
    }
    normalized
        .parse::<f64>()
        .ok()
        .filter(|n| n.is_finite())
        .map(|n| sign * n)
}

/// `1.234.567` with groups of three after the first group of one to three.
fn is_grouped(integer: &str, separator: char) -> bool {
    let mut groups = integer.split(separator);
    let Some(first) = groups.next() else {
        return false;
    };
    if first.is_empty() || first.len() > 3 || !first.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let mut any = false;
    for group in groups {
        if group.len() != 3 || !group.bytes().all(|b| b.is_ascii_digit()) {
            return false;
        }
        any = true;
    }
    any
}

/// `dd.mm.yyyy`, `d.m.yyyy`, `yyyy-mm-dd`: days since 1970-01-01.
pub fn parse_date(text: &str) -> Option<i32> {
    let text = text.trim();
    if !(8..=10).contains(&text.len()) {
        return None;
    }
    let (year, month, day) = if let Some((d, rest)) = text.split_once('.') {
        let (m, y) = rest.split_once('.')?;
        (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
    } else if text.as_bytes().get(4) == Some(&b'-') {
        let mut parts = text.splitn(3, '-');
        (
            parts.next()?.parse().ok()?,
            parts.next()?.parse().ok()?,
            parts.next()?.parse().ok()?,
        )
    } else {
        return None;
    };
    if !(1900..=2200).contains(&year)
        || !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
    {
        return None;
    }
    Some(days_from_civil(year, month, day))
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

pub use cradle_core::dates::days_from_civil;

/// The calendar date of days since 1970-01-01, as `yyyy-mm-dd`.
pub fn format_days(days: i32) -> String {
    cradle_core::dates::format_days(i64::from(days))
}

/// Days since 1970-01-01 of an Excel serial date (1900 system).
pub fn excel_serial_to_days(serial: f64) -> i32 {
    // Serial 25569 is 1970-01-01; Excel's phantom 1900-02-29 only affects
    // dates before March 1900, which product data does not have.
    (serial.floor() as i64 - 25_569) as i32
}

/// True for an 8-, 12-, 13- or 14-digit GTIN whose check digit is right.
pub fn is_valid_gtin(text: &str) -> bool {
    let digits = text.trim().as_bytes();
    if !matches!(digits.len(), 8 | 12 | 13 | 14) || !digits.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let (body, check) = digits.split_at(digits.len() - 1);
    let sum: u32 = body
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| u32::from(d - b'0') * if i % 2 == 0 { 3 } else { 1 })
        .sum();
    (10 - sum % 10) % 10 == u32::from(check[0] - b'0')
}

/// An ETIM class code: `EC` and six digits.
pub fn is_etim_class(text: &str) -> bool {
    let t = text.trim().as_bytes();
    t.len() == 8 && t[..2].eq_ignore_ascii_case(b"EC") && t[2..].iter().all(u8::is_ascii_digit)
}

/// An ETIM feature code: `EF` and six digits.
pub fn is_etim_feature(text: &str) -> bool {
    let t = text.trim().as_bytes();
    t.len() == 8 && t[..2].eq_ignore_ascii_case(b"EF") && t[2..].iter().all(u8::is_ascii_digit)
}

#[cfg(test)]
mod tests {
    use super::*;
    use DecimalSeparator::{Comma, Point};

    fn number(text: &str, decimal: DecimalSeparator, expected: Option<(f64, Option<&str>)>) {
        assert_eq!(parse_number_with_unit(text, decimal), expected, "{text:?}");
    }

    #[test]
    fn numbers_in_both_conventions() {
        number("12,5", Comma, Some((12.5, None)));
        number("12.5", Comma, Some((12.5, None)));
        number("12,5 W", Comma, Some((12.5, Some("W"))));
        number("3000 K", Point, Some((3000.0, Some("K"))));
        number("1.234,56", Comma, Some((1234.56, None)));
        number("1,234.56", Point, Some((1234.56, None)));
        number("1.234", Comma, Some((1234.0, None)));
        number("1.234", Point, Some((1.234, None)));
        number("1,234", Point, Some((1234.0, None)));
        number("-20 °C", Comma, Some((-20.0, Some("°C"))));
        number("110 lm/W", Comma, Some((110.0, Some("lm/W"))));
        number("IP65", Comma, None);
        number("12-24", Comma, None);
        number("1.2.3", Comma, None);
        number("5e3", Point, Some((5000.0, None)));
        number("12 Stück pro Karton", Comma, None);
    }

    #[test]
    fn cells_are_typed() {
        assert_eq!(
            parse("01.03.2026", Comma).date,
            Some(days_from_civil(2026, 3, 1))
        );
        assert_eq!(
            parse("2026-03-01", Point).date,
            Some(days_from_civil(2026, 3, 1))
        );
        assert_eq!(parse("31.02.2026", Comma).date, None);
        assert!(parse("k.A.", Comma).no_value);
        assert!(parse(" n/a ", Comma).no_value);
        assert!(parse("-", Comma).no_value);
        assert_eq!(parse("ja", Comma).boolean, Some(true));
        assert_eq!(parse("No", Comma).boolean, Some(false));
        assert_eq!(parse("x", Comma).boolean, Some(true));
        assert_eq!(parse("1", Comma).number, Some(1.0));
        assert_eq!(parse("Downlight", Comma), Typed::default());
    }

    #[test]
    fn dates_round_trip() {
        for days in [-25_000, 0, 1, 19_000, 20_513, 60_000] {
            let text = format_days(days);
            assert_eq!(parse_date(&text), Some(days), "{text}");
        }
        assert_eq!(excel_serial_to_days(46_082.0), days_from_civil(2026, 3, 1));
    }

    #[test]
    fn gtin_check_digits() {
        assert!(is_valid_gtin("4006381333931"));
        assert!(!is_valid_gtin("4006381333932"));
        assert!(is_valid_gtin("96385074"));
        assert!(!is_valid_gtin("400638133393a"));
        assert!(is_etim_class("EC001744"));
        assert!(!is_etim_class("EC00174"));
        assert!(is_etim_feature("EF000008"));
    }
}
