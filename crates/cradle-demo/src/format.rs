//! Numbers and dates the way German and English exports spell them.

/// `x` with at most `decimals` decimals, trailing zeros dropped, `sep` as the
/// decimal separator: `num(12.5, 2, ',')` is `12,5`, `num(12.0, 2, ',')` is `12`.
pub fn num(x: f64, decimals: usize, sep: char) -> String {
    let mut text = format!("{x:.decimals$}");
    if text.contains('.') {
        while text.ends_with('0') {
            text.pop();
        }
        if text.ends_with('.') {
            text.pop();
        }
    }
    if sep != '.' {
        text = text.replace('.', &sep.to_string());
    }
    text
}

/// A price: always two decimals.
pub fn price(x: f64, sep: char) -> String {
    let text = format!("{x:.2}");
    if sep == '.' {
        text
    } else {
        text.replace('.', &sep.to_string())
    }
}

fn days_from_civil(year: i32, month: u32, day: u32) -> i64 {
    let y = i64::from(if month <= 2 { year - 1 } else { year });
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i32, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    ((if m <= 2 { y + 1 } else { y }) as i32, m, d)
}

/// The Excel (1900 system) serial of a date: days since 1899-12-30.
pub fn excel_serial(year: i32, month: u32, day: u32) -> f64 {
    (days_from_civil(year, month, day) - days_from_civil(1899, 12, 30)) as f64
}

/// `dd.mm.yyyy`, how German CSV exports write dates.
pub fn date_de(serial: f64) -> String {
    let (y, m, d) = civil_from_days(serial as i64 + days_from_civil(1899, 12, 30));
    format!("{d:02}.{m:02}.{y:04}")
}

/// `yyyy-mm-dd`, how English/PIM exports write dates.
pub fn date_iso(serial: f64) -> String {
    let (y, m, d) = civil_from_days(serial as i64 + days_from_civil(1899, 12, 30));
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_dates() {
        assert_eq!(num(12.5, 2, ','), "12,5");
        assert_eq!(num(12.0, 2, ','), "12");
        assert_eq!(num(0.125, 3, '.'), "0.125");
        assert_eq!(price(7.5, ','), "7,50");
        assert_eq!(excel_serial(2026, 3, 1), 46_082.0);
        assert_eq!(date_de(46_082.0), "01.03.2026");
        assert_eq!(date_iso(46_082.0), "2026-03-01");
    }
}
