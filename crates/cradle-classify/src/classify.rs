//! Choosing a product's ETIM class from what is known about it.
//!
//! A valid class code in the delivery wins. Otherwise neighbour votes
//! (similar, already classified products of the same customer) and class
//! names and synonyms found in the product's texts each give a share per
//! class and a strength; attribute evidence weighs every class by how well
//! its feature map fits the product's attributes (and votes alone only when
//! nothing else is known). The best class's confidence is its share of the
//! votes, weighed by its fit and discounted when the evidence is thin, so
//! it drops when sources disagree.

use crate::features::candidates;
use crate::model::EtimModel;
use crate::text::{self, Found};

/// Everything known about one product.
#[derive(Debug, Clone, Default)]
pub struct Evidence<'a> {
    /// The class code delivered with the product, as delivered.
    pub delivered_code: Option<&'a str>,
    /// Names, descriptions, family: German and English.
    pub texts: Vec<&'a str>,
    pub attributes: &'a [crate::SourceAttribute],
    /// Already classified products of the same customer: (class code,
    /// cosine similarity), computed by the caller from embeddings.
    pub neighbours: &'a [(String, f32)],
}

/// Which evidence decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Source {
    Delivered,
    Neighbours,
    Names,
    Attributes,
}

impl Source {
    /// The name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Delivered => "delivered",
            Source::Neighbours => "neighbours",
            Source::Names => "names",
            Source::Attributes => "attributes",
        }
    }
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A product's class.
#[derive(Debug, Clone, PartialEq)]
pub struct Classification {
    pub class: String,
    /// 0..1: the share of the evidence for this class, discounted when the
    /// evidence is thin.
    pub confidence: f32,
    /// The best three classes (the chosen one first) with their confidence.
    pub alternatives: Vec<(String, f32)>,
    pub source: Source,
    /// The check of the delivered code, when one was delivered: a malformed
    /// or unknown code is reported here and not used.
    pub delivered: Option<CodeCheck>,
}

/// What a delivered class code is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeCheck {
    /// A class of the model; `code` is normalised (`ec1744`, ` EC001744 `
    /// → `EC001744`).
    Valid { code: String },
    /// Well-formed (EC and six digits) but not a class of the model: a typo,
    /// an outdated code or a newer release.
    Unknown { code: String },
    /// Not a class code at all. `suggestion` is a class of the model that
    /// the text may have meant (a code with a lost zero, `EC01744`), never
    /// used without a person's decision.
    Malformed {
        raw: String,
        suggestion: Option<String>,
    },
}

impl CodeCheck {
    /// The usable class code, if valid.
    pub fn valid(&self) -> Option<&str> {
        match self {
            CodeCheck::Valid { code } => Some(code),
            _ => None,
        }
    }
}

impl std::fmt::Display for CodeCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CodeCheck::Valid { code } => write!(f, "{code} (valid)"),
            CodeCheck::Unknown { code } => {
                write!(
                    f,
                    "{code} is not a class of the ETIM model (outdated or mistyped)"
                )
            }
            CodeCheck::Malformed { raw, suggestion } => {
                write!(f, "{raw:?} is not an ETIM class code (EC and six digits)")?;
                if let Some(s) = suggestion {
                    write!(f, "; did the delivery mean {s}?")?;
                }
                Ok(())
            }
        }
    }
}

/// Checks a delivered class code against the model. Case, surrounding and
/// inner spaces, `-`, `_` and `.` are forgiven, and so is a number written
/// without its leading zeros (`EC1744`); a code whose zeros are partly
/// there (`EC01744`) lost a digit somewhere and is malformed.
pub fn validate_code(model: &EtimModel, raw: &str) -> CodeCheck {
    let compact: String = raw
        .chars()
        .filter(|c| !(c.is_whitespace() || matches!(c, '-' | '_' | '.')))
        .collect::<String>()
        .to_ascii_uppercase();
    let malformed = |suggestion: Option<String>| CodeCheck::Malformed {
        raw: raw.to_owned(),
        suggestion,
    };
    let Some(digits) = compact.strip_prefix("EC") else {
        return malformed(None);
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return malformed(None);
    }
    let padded = (digits.len() < 6).then(|| format!("EC{digits:0>6}"));
    let code = match digits.len() {
        6 => compact.clone(),
        1..6 if !digits.starts_with('0') => padded.clone().unwrap_or_default(),
        _ => {
            let suggestion = padded.filter(|p| model.class(p).is_some());
            return malformed(suggestion);
        }
    };
    if model.class(&code).is_some() {
        CodeCheck::Valid { code }
    } else {
        CodeCheck::Unknown { code }
    }
}

/// One source's view: a share per class (summing to 1) and its strength.
struct View {
    source: Source,
    shares: Vec<f32>,
    strength: f32,
}

fn normalised(scores: Vec<f32>) -> Option<Vec<f32>> {
    let total: f32 = scores.iter().sum();
    (total > 0.0).then(|| scores.into_iter().map(|s| s / total).collect())
}

/// Neighbour votes weighted by similarity; a handful of close neighbours
/// give full strength.
fn neighbours(model: &EtimModel, evidence: &Evidence) -> Option<View> {
    let mut scores = vec![0.0f32; model.classes().len()];
    let mut total = 0.0f32;
    for (class, similarity) in evidence.neighbours {
        let Some(index) = model.class_position(class) else {
            continue;
        };
        let weight = similarity.max(0.0);
        scores[index] += weight;
        total += weight;
    }
    let shares = normalised(scores)?;
    Some(View {
        source: Source::Neighbours,
        shares,
        strength: (total / 2.0).min(1.0),
    })
}

/// Class names and synonyms in the texts. A name early in a text (the noun
/// a product name starts with) counts more than one deep in a description;
/// a whole word more than a compound head.
fn names(model: &EtimModel, evidence: &Evidence) -> Option<View> {
    let mut scores = vec![0.0f32; model.classes().len()];
    for text in &evidence.texts {
        let words = text::tokens(text);
        if words.is_empty() {
            continue;
        }
        let found: Vec<(&text::Term, usize, Found)> =
            text::matches(&model.terms, &model.term_index, &words)
                .into_iter()
                .map(|(t, at, how)| (&model.terms[t], at, how))
                .collect();
        // A word that is itself a class name is no compound of another:
        // "Bodenstrahler" is an in-ground luminaire, not a "Strahler".
        let known: Vec<usize> = found
            .iter()
            .filter(|(term, _, how)| *how == Found::Words && term.words.len() == 1)
            .map(|(_, at, _)| *at)
            .collect();
        let mut best = vec![0.0f32; scores.len()];
        for (term, at, found) in found {
            if found == Found::Compound && known.contains(&at) {
                continue;
            }
            {
                let how = match found {
                    Found::Words => 1.0,
                    Found::Compound => 0.8,
                };
                // Longer terms are more specific: "LED driver" over "driver".
                let specific = 1.0 + 0.1 * (term.words.len() as f32 - 1.0);
                let score = term.weight * how * specific / (1.0 + 0.5 * at as f32);
                best[term.class] = best[term.class].max(score);
            }
        }
        for (score, b) in scores.iter_mut().zip(best) {
            *score += b;
        }
    }
    let top = scores.iter().cloned().fold(0.0f32, f32::max);
    let shares = normalised(scores.iter().map(|s| s * s).collect())?;
    Some(View {
        source: Source::Names,
        shares,
        strength: top.min(1.0),
    })
}

/// Attribute evidence: how well each class's feature map covers the
/// attributes the product has. A product with luminous flux and colour
/// temperature is a luminaire, not a driver; which luminaire, attributes
/// rarely say.
struct Compatibility {
    /// Per class, 0..1: the share of recognised attributes the class has
    /// features for, sharpened so that missing ones weigh.
    fit: Vec<f32>,
    /// How much the attributes tell classes apart (0 when every class fits
    /// equally).
    strength: f32,
}

fn attributes(model: &EtimModel, evidence: &Evidence) -> Option<Compatibility> {
    let classes = model.classes();
    let mut hits = vec![0.0f32; classes.len()];
    let mut recognised = 0usize;
    for attribute in evidence.attributes {
        if attribute.text.trim().is_empty() && attribute.number.is_none() {
            continue;
        }
        let features = candidates(model, &attribute.name);
        if features.is_empty() {
            continue;
        }
        recognised += 1;
        let mut having: Vec<usize> = features
            .iter()
            .flat_map(|(code, _)| model.classes_with(code).iter().copied())
            .collect();
        having.sort_unstable();
        having.dedup();
        for index in having {
            hits[index] += 1.0;
        }
    }
    if recognised == 0 {
        return None;
    }
    let fit: Vec<f32> = hits
        .iter()
        .map(|h| (h / recognised as f32).powi(4))
        .collect();
    let best = fit.iter().cloned().fold(0.0f32, f32::max);
    let worst = fit.iter().cloned().fold(1.0f32, f32::min);
    let strength = 0.5 * (recognised as f32 / 4.0).min(1.0) * (best - worst);
    (strength > 0.0).then_some(Compatibility { fit, strength })
}

/// Thin evidence cannot be sure even when unanimous: one name in one text
/// gives about 0.75, names and close neighbours together over 0.9.
fn coverage(weight: f32) -> f32 {
    1.0 - (-1.5 * weight).exp()
}

fn ranked(scores: &[f32]) -> Vec<(usize, f32)> {
    let mut ranked: Vec<(usize, f32)> = scores
        .iter()
        .enumerate()
        .map(|(i, c)| (i, c.clamp(0.0, 1.0)))
        .filter(|(_, c)| *c > 0.0)
        .collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    ranked
}

/// The blind classification: all evidence but the delivered code. Names
/// and neighbours vote; attributes weigh each class by how well it fits
/// (and vote alone only when nothing else is known).
fn blind(model: &EtimModel, evidence: &Evidence) -> Option<(Vec<(usize, f32)>, Source)> {
    let views: Vec<View> = [neighbours(model, evidence), names(model, evidence)]
        .into_iter()
        .flatten()
        .collect();
    let fit = attributes(model, evidence);
    let weight: f32 = views.iter().map(|v| v.strength).sum();
    if weight <= 0.0 {
        let fit = fit?;
        let total: f32 = fit.fit.iter().sum();
        let scale = coverage(fit.strength) / total;
        let ranked = ranked(&fit.fit.iter().map(|f| f * scale).collect::<Vec<_>>());
        return (!ranked.is_empty()).then_some((ranked, Source::Attributes));
    }
    let mut votes = vec![0.0f32; model.classes().len()];
    for view in &views {
        for (vote, share) in votes.iter_mut().zip(&view.shares) {
            *vote += view.strength * share;
        }
    }
    let strength = weight + fit.as_ref().map_or(0.0, |f| f.strength);
    let scale = coverage(strength) / weight;
    let scores: Vec<f32> = match &fit {
        Some(fit) => votes
            .iter()
            .zip(&fit.fit)
            .map(|(v, f)| v * f * scale)
            .collect(),
        None => votes.iter().map(|v| v * scale).collect(),
    };
    let ranked = ranked(&scores);
    let top = ranked.first()?.0;
    // Attributes decided if the votes alone would not have chosen this
    // class (another class had as many votes or more).
    let by_votes = votes
        .iter()
        .enumerate()
        .all(|(i, v)| i == top || *v < votes[top]);
    let source = if !by_votes {
        Source::Attributes
    } else {
        views
            .iter()
            .max_by(|a, b| {
                (a.strength * a.shares[top])
                    .total_cmp(&(b.strength * b.shares[top]))
                    .then(b.source.cmp(&a.source))
            })
            .map(|v| v.source)?
    };
    Some((ranked, source))
}

/// Classifies one product. `None` when nothing points to any class.
pub fn classify(model: &EtimModel, evidence: &Evidence) -> Option<Classification> {
    let check = evidence.delivered_code.map(|raw| validate_code(model, raw));
    let blind = blind(model, evidence);
    let code = |index: usize| model.classes()[index].code.clone();
    if let Some(CodeCheck::Valid { code: delivered }) = &check {
        // The delivery is authoritative; evidence that clearly points
        // elsewhere lowers the confidence so that a report can show it.
        let contradicted = blind.as_ref().is_some_and(|(ranked, _)| {
            ranked
                .first()
                .is_some_and(|(i, c)| model.classes()[*i].code != *delivered && *c >= 0.6)
        });
        let confidence = if contradicted { 0.75 } else { 1.0 };
        let mut alternatives = vec![(delivered.clone(), confidence)];
        if let Some((ranked, _)) = &blind {
            alternatives.extend(
                ranked
                    .iter()
                    .filter(|(i, _)| model.classes()[*i].code != *delivered)
                    .take(2)
                    .map(|(i, c)| (code(*i), *c)),
            );
        }
        return Some(Classification {
            class: delivered.clone(),
            confidence,
            alternatives,
            source: Source::Delivered,
            delivered: check,
        });
    }
    let (ranked, source) = blind?;
    let (top, confidence) = ranked[0];
    Some(Classification {
        class: code(top),
        confidence,
        alternatives: ranked.iter().take(3).map(|(i, c)| (code(*i), *c)).collect(),
        source,
        delivered: check,
    })
}
