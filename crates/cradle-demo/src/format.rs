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

use cradle_core::dates::civil_from_excel_serial;
pub use cradle_core::dates::excel_serial;

/// `dd.mm.yyyy`, how German CSV exports write dates.
pub fn date_de(serial: f64) -> String {
    let (y, m, d) = civil_from_excel_serial(serial);
    format!("{d:02}.{m:02}.{y:04}")
}

/// `yyyy-mm-dd`, how English/PIM exports write dates.
pub fn date_iso(serial: f64) -> String {
    let (y, m, d) = civil_from_excel_serial(serial);
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
