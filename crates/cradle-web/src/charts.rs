//! Horizontal bar charts drawn as SVG on the server: the geometry is
//! computed here, the template (`chart.html`) draws it, escaping labels
//! like every other value. No script, no library.

/// Height of one bar's row in SVG units.
const ROW: u32 = 22;
/// Where bars start (labels are to their left).
pub const BAR_X: u32 = 220;
/// The longest bar.
const BAR_WIDTH: f64 = 300.0;

/// One chart.
#[derive(Debug, Clone)]
pub struct Chart {
    pub title: String,
    pub bars: Vec<Bar>,
    pub height: u32,
}

/// One bar with its position.
#[derive(Debug, Clone)]
pub struct Bar {
    /// Shortened for the axis; the whole label is in `full`.
    pub label: String,
    pub full: String,
    /// What is written after the bar (a count or a percentage).
    pub value: String,
    pub width: String,
    pub y: u32,
    pub text_y: u32,
    pub value_x: String,
    /// Where the bar links to, if anywhere.
    pub href: Option<String>,
}

impl Chart {
    /// Bars for `(label, value, link)`, scaled to the largest value (or to
    /// `max` when given, e.g. 100 for percentages); `show` formats values.
    pub fn new(
        title: impl Into<String>,
        items: Vec<(String, f64, Option<String>)>,
        max: Option<f64>,
        show: impl Fn(f64) -> String,
    ) -> Chart {
        let largest = max.unwrap_or_else(|| items.iter().map(|i| i.1).fold(0.0, f64::max));
        let bars = items
            .into_iter()
            .enumerate()
            .map(|(i, (label, value, href))| {
                let width = if largest > 0.0 {
                    (value / largest * BAR_WIDTH).clamp(0.0, BAR_WIDTH)
                } else {
                    0.0
                };
                let y = i as u32 * ROW;
                Bar {
                    label: shorten(&label, 30),
                    full: label,
                    value: show(value),
                    width: format!("{width:.1}"),
                    y: y + 4,
                    text_y: y + 16,
                    value_x: format!("{:.1}", f64::from(BAR_X) + width + 6.0),
                    href,
                }
            })
            .collect::<Vec<_>>();
        Chart {
            title: title.into(),
            height: (bars.len() as u32).max(1) * ROW + 8,
            bars,
        }
    }
}

/// At most `chars` characters, with an ellipsis when cut.
pub fn shorten(text: &str, chars: usize) -> String {
    if text.chars().count() <= chars {
        text.to_owned()
    } else {
        let mut short: String = text.chars().take(chars.saturating_sub(1)).collect();
        short.push('…');
        short
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_bars_to_the_largest_value() {
        let chart = Chart::new(
            "t",
            vec![("a".into(), 10.0, None), ("b".into(), 5.0, None)],
            None,
            |v| format!("{v}"),
        );
        assert_eq!(chart.bars[0].width, "300.0");
        assert_eq!(chart.bars[1].width, "150.0");
        assert_eq!(chart.height, 2 * ROW + 8);
        assert_eq!(shorten("abcdef", 4), "abc…");
    }
}
