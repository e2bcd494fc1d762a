//! Measuring the classifier: a deterministic hold-out split of labelled
//! products and accuracy@1, accuracy@3 and a confusion summary of the
//! held-out products classified blind.

use crate::Classification;
use std::collections::BTreeMap;

/// Whether `article_no` is held out: a stable hash of the article number and
/// `seed`, so the split is the same on every run and machine and does not
/// depend on the order of products. About `share` of all articles are held
/// out.
pub fn holdout(article_no: &str, share: f64, seed: u64) -> bool {
    // FNV-1a over the seed and the article number, then a SplitMix64 finaliser.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in seed.to_le_bytes().iter().chain(article_no.as_bytes()) {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash = (hash ^ (hash >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    hash = (hash ^ (hash >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    hash ^= hash >> 31;
    let unit = (hash >> 11) as f64 / (1u64 << 53) as f64;
    unit < share
}

/// How often `expected` was classified as `predicted` (`None`: not
/// classified at all).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfusionRow {
    pub expected: String,
    pub predicted: Option<String>,
    pub count: usize,
}

/// Accuracy of a set of blind classifications against the expected classes.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    pub n: usize,
    /// Share whose chosen class is the expected one.
    pub accuracy_at_1: f64,
    /// Share whose expected class is among the three alternatives.
    pub accuracy_at_3: f64,
    /// Every (expected, predicted) pair seen, most frequent first.
    pub confusion: Vec<ConfusionRow>,
}

impl Evaluation {
    pub fn new<'a, 'c>(
        pairs: impl IntoIterator<Item = (&'a str, Option<&'c Classification>)>,
    ) -> Evaluation {
        let mut n = 0usize;
        let (mut top1, mut top3) = (0usize, 0usize);
        let mut counts: BTreeMap<(String, Option<String>), usize> = BTreeMap::new();
        for (expected, classification) in pairs {
            n += 1;
            let predicted = classification.map(|c| c.class.clone());
            if predicted.as_deref() == Some(expected) {
                top1 += 1;
            }
            if classification.is_some_and(|c| {
                c.class == expected || c.alternatives.iter().take(3).any(|(a, _)| a == expected)
            }) {
                top3 += 1;
            }
            *counts.entry((expected.to_owned(), predicted)).or_default() += 1;
        }
        let mut confusion: Vec<ConfusionRow> = counts
            .into_iter()
            .map(|((expected, predicted), count)| ConfusionRow {
                expected,
                predicted,
                count,
            })
            .collect();
        confusion.sort_by(|a, b| {
            b.count
                .cmp(&a.count)
                .then_with(|| a.expected.cmp(&b.expected))
        });
        let share = |k: usize| if n == 0 { 0.0 } else { k as f64 / n as f64 };
        Evaluation {
            n,
            accuracy_at_1: share(top1),
            accuracy_at_3: share(top3),
            confusion,
        }
    }

    /// Per expected class: (class, products, correct), by class code.
    pub fn per_class(&self) -> Vec<(String, usize, usize)> {
        let mut classes: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
        for row in &self.confusion {
            let entry = classes.entry(&row.expected).or_default();
            entry.0 += row.count;
            if row.predicted.as_deref() == Some(row.expected.as_str()) {
                entry.1 += row.count;
            }
        }
        classes
            .into_iter()
            .map(|(class, (total, correct))| (class.to_owned(), total, correct))
            .collect()
    }
}

impl std::fmt::Display for Evaluation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "{} held-out products: accuracy@1 {:.3}, accuracy@3 {:.3}",
            self.n, self.accuracy_at_1, self.accuracy_at_3
        )?;
        let confusions: Vec<&ConfusionRow> = self
            .confusion
            .iter()
            .filter(|r| r.predicted.as_deref() != Some(r.expected.as_str()))
            .collect();
        if confusions.is_empty() {
            writeln!(f, "no confusions")?;
        } else {
            writeln!(f, "top confusions (expected -> predicted: count):")?;
            for row in confusions.iter().take(10) {
                writeln!(
                    f,
                    "  {} -> {}: {}",
                    row.expected,
                    row.predicted.as_deref().unwrap_or("(none)"),
                    row.count
                )?;
            }
        }
        writeln!(f, "per class (correct/total):")?;
        for (class, total, correct) in self.per_class() {
            writeln!(
                f,
                "  {class}  {correct:>6}/{total:<6} {:.3}",
                correct as f64 / total as f64
            )?;
        }
        Ok(())
    }
}
