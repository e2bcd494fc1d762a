//! One cell's text: typed interpretation, numbers, dates. No panics, and
//! dates round-trip through `format_days`.
#![no_main]

use cradle_ingest::value::{self, DecimalSeparator};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    // And from the other side: any day in the accepted years formats to a
    // date that parses back to it.
    if bytes.len() >= 4 {
        let days = i32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
            .rem_euclid(value::days_from_civil(2200, 12, 31) - value::days_from_civil(1900, 1, 1) + 1)
            + value::days_from_civil(1900, 1, 1);
        let formatted = value::format_days(days);
        assert_eq!(value::parse_date(&formatted), Some(days), "{formatted:?}");
        // The Excel serial of the same day maps back to it.
        let serial = f64::from(days) + 25_569.0;
        assert_eq!(value::excel_serial_to_days(serial), days);
    }

    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    for decimal in [DecimalSeparator::Comma, DecimalSeparator::Point] {
        let typed = value::parse(text, decimal);
        if let Some(n) = typed.number {
            assert!(n.is_finite(), "{text:?} parsed to {n}");
        }
        if let Some(n) = value::parse_number(text, decimal) {
            assert!(n.is_finite(), "{text:?} parsed to {n}");
        }
        if let Some((n, unit)) = value::parse_number_with_unit(text, decimal) {
            assert!(n.is_finite());
            if let Some(unit) = unit {
                assert!(unit.chars().count() <= 8, "unit {unit:?} of {text:?}");
            }
        }
    }
    let _ = value::is_no_value(text);
    let _ = value::parse_bool(text);
    let _ = value::is_valid_gtin(text);
    let _ = value::is_etim_class(text);
    let _ = value::is_etim_feature(text);

    if let Some(days) = value::parse_date(text) {
        let formatted = value::format_days(days);
        assert_eq!(
            value::parse_date(&formatted),
            Some(days),
            "{text:?} is day {days}, formatted {formatted:?}"
        );
    }

});
