//! Which products a media file belongs to: those whose attributes name
//! the file, else an article number written in the file's name.

use std::collections::HashMap;

pub use cradle_core::media::normalise_file_name;
use cradle_core::media::percent_decode;

/// The article numbers a media file belongs to.
///
/// First the products whose attributes reference the file
/// (`referenced_by`: normalised file name → article numbers, see
/// [`normalise_file_name`]); when none do, the article numbers that
/// `article_numbers` accepts among the parts of the file's name
/// (`LW-10234_datenblatt.pdf` → `LW-10234`); else nothing. No duplicates;
/// in the order found.
pub fn link_products(
    file_name: &str,
    referenced_by: &HashMap<String, Vec<String>>,
    article_numbers: &dyn Fn(&str) -> bool,
) -> Vec<String> {
    let key = normalise_file_name(file_name);
    if let Some(products) = referenced_by.get(&key)
        && !products.is_empty()
    {
        let mut linked: Vec<String> = Vec::with_capacity(products.len());
        for product in products {
            if !linked.contains(product) {
                linked.push(product.clone());
            }
        }
        return linked;
    }
    named_article_numbers(file_name, article_numbers)
}

/// Article numbers in a file name: runs of its `-`-joined parts, between
/// the separators `_`, space, `.`, `,`, `(`, `)`, `+`; the longest run that
/// is an article number wins at each place. Tried as written and in upper
/// case (`lw-10234.pdf`).
fn named_article_numbers(file_name: &str, article_numbers: &dyn Fn(&str) -> bool) -> Vec<String> {
    let trimmed = file_name.trim().trim_end_matches(['/', '\\']);
    let base = trimmed.rsplit(['/', '\\']).next().unwrap_or_default();
    let base = base.split(['?', '#']).next().unwrap_or_default();
    let base = percent_decode(base);
    let stem = match base.rsplit_once('.') {
        Some((stem, _extension)) if !stem.is_empty() => stem,
        _ => base.as_str(),
    };
    let accepts = |candidate: &str| -> Option<String> {
        if article_numbers(candidate) {
            return Some(candidate.to_owned());
        }
        let upper = candidate.to_uppercase();
        (upper != candidate && article_numbers(&upper)).then_some(upper)
    };
    let mut found = Vec::new();
    // The whole stem first: article numbers may contain the separators.
    if let Some(number) = accepts(stem) {
        found.push(number);
        return found;
    }
    for token in stem.split(['_', ' ', '.', ',', '(', ')', '+']) {
        let parts: Vec<&str> = token.split('-').collect();
        // Very long tokens are not article numbers; bound the work.
        if parts.len() > 12 {
            continue;
        }
        let mut start = 0;
        while start < parts.len() {
            let longest = (start + 1..=parts.len())
                .rev()
                .find_map(|end| accepts(&parts[start..end].join("-")).map(|n| (end, n)));
            match longest {
                Some((end, number)) => {
                    if !found.contains(&number) {
                        found.push(number);
                    }
                    start = end;
                }
                None => start += 1,
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(file_name: &str, references: &[(&str, &[&str])], expected: &[&str]) {
        let referenced_by: HashMap<String, Vec<String>> = references
            .iter()
            .map(|(name, products)| {
                (
                    normalise_file_name(name),
                    products.iter().map(|p| (*p).to_owned()).collect(),
                )
            })
            .collect();
        let known = ["LW-10234", "LW-10235", "A-1", "4711", "LW-100007"];
        let is_article = |n: &str| known.contains(&n);
        assert_eq!(
            link_products(file_name, &referenced_by, &is_article),
            expected,
            "{file_name}"
        );
    }

    #[test]
    fn names_are_normalised() {
        assert_eq!(normalise_file_name("Datenblatt.PDF"), "datenblatt.pdf");
        assert_eq!(normalise_file_name("medien/db/X.pdf"), "x.pdf");
        assert_eq!(normalise_file_name(r"C:\Export\Bild 1.JPG"), "bild 1.jpg");
        assert_eq!(
            normalise_file_name("https://lwx.example/db/LW-1.pdf?v=3#page=2"),
            "lw-1.pdf"
        );
        assert_eq!(
            normalise_file_name("https://lwx.example/m/Bild%20eins.png"),
            "bild eins.png"
        );
        assert_eq!(normalise_file_name("  a.pdf "), "a.pdf");
        assert_eq!(normalise_file_name("100%.pdf"), "100%.pdf");
        assert_eq!(normalise_file_name("dir/"), "dir");
    }

    #[test]
    fn references_come_first() {
        check(
            "media/LW-10234.pdf",
            &[("https://lwx.example/db/LW-10234.pdf", &["LW-10234"])],
            &["LW-10234"],
        );
        // Referenced by other products than the one in its name.
        check(
            "LW-10234_datenblatt.pdf",
            &[("lw-10234_datenblatt.pdf", &["LW-10235", "A-1", "LW-10235"])],
            &["LW-10235", "A-1"],
        );
        // An empty reference list falls through to the name.
        check("LW-10234.pdf", &[("lw-10234.pdf", &[])], &["LW-10234"]);
    }

    #[test]
    fn article_numbers_in_names() {
        check("LW-10234_datenblatt.pdf", &[], &["LW-10234"]);
        check("lw-10234_datenblatt.pdf", &[], &["LW-10234"]);
        check("Datenblatt LW-10234 (DE).pdf", &[], &["LW-10234"]);
        check("LW-10234-datenblatt.pdf", &[], &["LW-10234"]);
        check("LW-10234_LW-10235_set.pdf", &[], &["LW-10234", "LW-10235"]);
        check(
            "https://x.example/m/LW-100007_01.png?x=1",
            &[],
            &["LW-100007"],
        );
        check("4711.jpg", &[], &["4711"]);
        check("A-1", &[], &["A-1"]);
    }

    #[test]
    fn nothing_when_nothing_matches() {
        check("MA_AERO.pdf", &[], &[]);
        check("LW-99999.pdf", &[], &[]);
        check("", &[], &[]);
        check(".pdf", &[], &[]);
        check(&"-".repeat(1000), &[], &[]);
    }
}
