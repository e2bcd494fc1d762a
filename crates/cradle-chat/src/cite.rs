//! Finds the citation numbers (`[3]`, `[1, 2]`, `[4][5]`) in an answer
//! as it streams, so each citation event can go out before the first text
//! that refers to it, even when a marker is split over two pieces.

/// The longest marker waited for; a `[` followed by more is plain text.
const LONGEST_MARKER: usize = 24;

/// Scans an answer piece by piece.
#[derive(Debug, Default)]
pub struct Scanner {
    text: String,
    /// Everything before this byte has been scanned.
    scanned: usize,
}

impl Scanner {
    /// Adds a piece; the numbers of the markers it completes, in order.
    pub fn push(&mut self, piece: &str) -> Vec<usize> {
        self.text.push_str(piece);
        let mut numbers = Vec::new();
        while let Some(open) = self.text[self.scanned..].find('[') {
            let open = self.scanned + open;
            let rest = &self.text[open + 1..];
            match rest.find(']') {
                Some(close) => {
                    numbers.extend(marker_numbers(&rest[..close]));
                    self.scanned = open + 1 + close + 1;
                }
                None if rest.len() < LONGEST_MARKER
                    && rest
                        .chars()
                        .all(|c| c.is_ascii_digit() || ", ;".contains(c)) =>
                {
                    // Perhaps a marker whose end is in the next piece.
                    self.scanned = open;
                    return numbers;
                }
                None => self.scanned = open + 1,
            }
        }
        self.scanned = self.text.len();
        numbers
    }

    /// The whole text so far.
    pub fn text(&self) -> &str {
        &self.text
    }
}

/// `1`, `1, 2`, `1;2` as numbers; anything else (`[a]`, `[]`) none.
fn marker_numbers(inside: &str) -> Vec<usize> {
    let parts: Vec<&str> = inside.split([',', ';']).map(str::trim).collect();
    if parts
        .iter()
        .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    {
        parts.iter().filter_map(|p| p.parse().ok()).collect()
    } else {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(pieces: &[&str]) -> Vec<Vec<usize>> {
        let mut scanner = Scanner::default();
        pieces.iter().map(|piece| scanner.push(piece)).collect()
    }

    #[test]
    fn markers_whole_split_and_grouped() {
        assert_eq!(scan(&["Dimmbar [1]. Und [2]"]), [vec![1, 2]]);
        assert_eq!(
            scan(&["Dimmbar [", "1", "2] x"]),
            [vec![], vec![], vec![12]]
        );
        assert_eq!(scan(&["a [1, 3][4]"]), [vec![1, 3, 4]]);
        assert_eq!(scan(&["[a] [] [1 2] [5"]), [Vec::<usize>::new()]);
        assert_eq!(scan(&["[", "x] [7]"]), [vec![], vec![7usize]]);
    }
}
