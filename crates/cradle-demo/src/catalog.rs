//! The invented product range of "Luxwerk GmbH": families, series and one
//! [`Product`] per article, drawn once so that every file that mentions a
//! product tells the same story about it (same name, same GTIN, same power).
//! Deliberate contradictions are added by the files, never here.

use crate::rng::Rng;

/// A product family: the unit by which master and technical data are split
/// into files and sheets, and what fixes the ETIM class (a real class of the
/// ETIM model, checked against cradle-classify's excerpt in the tests).
#[derive(Debug)]
pub struct Family {
    pub de: &'static str,
    pub en: &'static str,
    /// Singular, used in product names.
    pub noun_de: &'static str,
    pub noun_en: &'static str,
    pub etim: &'static str,
    pub series: &'static [&'static str],
    /// Share of the range, in per mille.
    pub share: u32,
    pub luminaire: bool,
    pub customs: &'static str,
}

pub const FAMILIES: [Family; 11] = [
    Family {
        de: "Downlights",
        en: "Downlights",
        noun_de: "Downlight",
        noun_en: "Downlight",
        etim: "EC001744",
        series: &["AERO", "ORBIT", "NOVA", "PUNTO"],
        share: 170,
        luminaire: true,
        customs: "9405 11 40",
    },
    Family {
        de: "Strahler",
        en: "Spotlights",
        noun_de: "Strahler",
        noun_en: "Spotlight",
        // ETIM has one class for downlights, spots and floodlights.
        etim: "EC001744",
        series: &["FOCUS", "VELA", "KORA"],
        share: 120,
        luminaire: true,
        customs: "9405 11 40",
    },
    Family {
        de: "Pendelleuchten",
        en: "Pendant luminaires",
        noun_de: "Pendelleuchte",
        noun_en: "Pendant luminaire",
        etim: "EC001743",
        series: &["LUMA", "ARCO", "SOLA"],
        share: 100,
        luminaire: true,
        customs: "9405 11 40",
    },
    Family {
        de: "Wand- und Deckenleuchten",
        en: "Wall and ceiling luminaires",
        noun_de: "Wand-/Deckenleuchte",
        noun_en: "Wall/ceiling luminaire",
        etim: "EC002892",
        series: &["CUBO", "DISCO", "PLANA"],
        share: 110,
        luminaire: true,
        customs: "9405 11 40",
    },
    Family {
        de: "Lichtbandleuchten",
        en: "Batten luminaires",
        noun_de: "Lichtbandleuchte",
        noun_en: "Batten luminaire",
        etim: "EC000109",
        series: &["LINEA", "TRAXX"],
        share: 90,
        luminaire: true,
        customs: "9405 11 40",
    },
    Family {
        de: "Pollerleuchten",
        en: "Bollard luminaires",
        noun_de: "Pollerleuchte",
        noun_en: "Bollard luminaire",
        etim: "EC000301",
        series: &["TERRA", "PORTO", "FARO"],
        share: 90,
        luminaire: true,
        customs: "9405 41 40",
    },
    Family {
        de: "Straßenleuchten",
        en: "Street luminaires",
        noun_de: "Straßenleuchte",
        noun_en: "Street luminaire",
        etim: "EC000062",
        series: &["VIA", "STRADA"],
        share: 50,
        luminaire: true,
        customs: "9405 41 40",
    },
    Family {
        de: "Stromschienen",
        en: "Light tracks",
        noun_de: "Stromschiene",
        noun_en: "Light track",
        etim: "EC000101",
        series: &["TRACK3", "MINITRACK"],
        share: 50,
        luminaire: false,
        customs: "8536 90 10",
    },
    Family {
        de: "LED-Streifen",
        en: "LED strips",
        noun_de: "LED-Streifen",
        noun_en: "LED strip",
        etim: "EC002706",
        series: &["STRIPE", "FLEX", "MODUL"],
        share: 80,
        luminaire: false,
        customs: "8539 52 00",
    },
    Family {
        de: "Betriebsgeräte",
        en: "Control gear",
        noun_de: "LED-Treiber",
        noun_en: "LED driver",
        etim: "EC002710",
        series: &["DRIVE", "POWERLINE"],
        share: 70,
        luminaire: false,
        customs: "8504 40 82",
    },
    Family {
        de: "Zubehör",
        en: "Accessories",
        noun_de: "Zubehör",
        noun_en: "Accessory",
        // Mechanical accessories/spare parts (group: accessories for lighting).
        etim: "EC002557",
        series: &["FIX", "CLIP", "KIT"],
        share: 70,
        luminaire: false,
        customs: "9405 99 00",
    },
];

pub const COLORS: [(&str, &str, &str); 5] = [
    ("weiß", "white", "RAL 9016"),
    ("schwarz", "black", "RAL 9005"),
    ("silber", "silver", "RAL 9006"),
    ("anthrazit", "anthracite", "RAL 7016"),
    ("messing", "brass", "—"),
];
const POWERS: [f64; 12] = [
    3.5, 5.0, 7.5, 9.0, 12.5, 15.0, 18.0, 24.0, 27.5, 32.0, 40.0, 55.0,
];
const CCTS: [u32; 6] = [2700, 3000, 3500, 4000, 5000, 6500];
const IPS: [&str; 6] = ["IP20", "IP40", "IP44", "IP54", "IP65", "IP67"];
const BEAMS: [u32; 7] = [15, 24, 36, 40, 60, 90, 110];
const ORIGINS: [&str; 6] = ["DE", "DE", "AT", "IT", "CN", "PL"];
const MATERIALS: [&str; 5] = [
    "Aluminium-Druckguss",
    "Aluminium, eloxiert",
    "Stahlblech, pulverbeschichtet",
    "Polycarbonat",
    "Glas, satiniert",
];
pub const DIMMING: [&str; 4] = ["DALI-2", "1-10V", "Phasenabschnitt", "Casambi"];

/// One article of the range.
#[derive(Debug, Clone)]
pub struct Product {
    pub index: u32,
    pub key: String,
    pub family: usize,
    pub series: &'static str,
    pub gtin: String,
    pub mpn: String,
    pub name_de: String,
    pub name_en: String,
    pub color: usize,
    pub material: &'static str,
    pub power: f64,
    pub lumen: u32,
    pub cct: u32,
    pub cri: u32,
    pub ip: &'static str,
    pub protection_class: &'static str,
    pub voltage: u32,
    pub beam: u32,
    pub dimmable: bool,
    pub dimming: &'static str,
    pub weight: f64,
    pub length: u32,
    pub width: u32,
    pub height: u32,
    pub lifetime: u32,
    pub price_eur: f64,
    pub price_chf: f64,
    pub vpe: u32,
    pub origin: &'static str,
    pub lead_days: u32,
    /// Excel serial of the date the article was released.
    pub valid_from: f64,
    pub status: &'static str,
    pub warranty: u32,
}

impl Product {
    pub fn family(&self) -> &'static Family {
        &FAMILIES[self.family]
    }

    pub fn luminaire(&self) -> bool {
        self.family().luminaire
    }
}

/// The whole range, sorted by family then series, so that files split by
/// family are contiguous ranges and series headings fall naturally.
pub fn build(count: usize, seed: u64) -> Vec<Product> {
    let total_share: u32 = FAMILIES.iter().map(|f| f.share).sum();
    let mut products = Vec::with_capacity(count);
    let mut start = 0usize;
    for (family, spec) in FAMILIES.iter().enumerate() {
        // Every family gets at least one product even at the smallest scale.
        let end = if family + 1 == FAMILIES.len() {
            count
        } else {
            let cumulative: u32 = FAMILIES[..=family].iter().map(|f| f.share).sum();
            ((count as u64 * cumulative as u64 / total_share as u64) as usize)
                .max(start + 1)
                .min(count - (FAMILIES.len() - 1 - family))
        };
        let n = end - start;
        for local in 0..n {
            let index = (start + local) as u32;
            // Series as contiguous blocks inside the family.
            let series = spec.series[local * spec.series.len() / n.max(1)];
            products.push(product(index, family, series, seed));
        }
        start = end;
    }
    hostile_names(&mut products);
    products
}

/// Names a customer's file may well contain and a page must show as text:
/// markup that would run script if a page did not escape it. Given to the
/// last two products that are not luminaires (no label picture, so OCR
/// never reads them), in both languages.
pub const HOSTILE_NAMES: [&str; 2] = [
    "<script>alert(1)</script>",
    "\"><img src=x onerror=alert(1)>",
];

fn hostile_names(products: &mut [Product]) {
    let mut names = HOSTILE_NAMES.iter();
    for product in products.iter_mut().rev().filter(|p| !p.luminaire()) {
        let Some(name) = names.next() else { break };
        product.name_de = (*name).to_owned();
        product.name_en = (*name).to_owned();
    }
}

fn product(index: u32, family: usize, series: &'static str, seed: u64) -> Product {
    let spec = &FAMILIES[family];
    let mut rng = Rng::derive(seed, 0x5052_4f44 ^ ((index as u64) << 20));
    let color = rng.below(COLORS.len());
    let power = if spec.luminaire {
        rng.pick(&POWERS)
    } else if family == 9 {
        rng.pick(&[15.0, 25.0, 35.0, 50.0, 75.0, 100.0, 150.0])
    } else {
        rng.pick(&[0.0, 4.8, 9.6, 14.4, 19.2, 2.0])
    };
    let efficacy = rng.range(95, 160) as f64;
    let lumen = ((power * efficacy) / 10.0).round() as u32 * 10;
    let cct = rng.pick(&CCTS);
    let cri = rng.pick(&[80, 90, 90, 95, 97]);
    let variant = rng.range(10, 990);
    let key = format!("LW-{}", 100_000 + index);
    let gtin = gtin13(406_123_000_000 + index as u64);
    let color_code = ["WH", "BK", "SI", "AN", "MS"][color];
    let mpn = format!("{series}-{variant}-{}{}-{color_code}", cri / 10, cct / 100);
    let power_de = crate::format::num(power, 1, ',');
    let power_en = crate::format::num(power, 1, '.');
    let (name_de, name_en) = if spec.luminaire {
        (
            format!(
                "{} {series} {variant} {power_de} W {cct} K {}",
                spec.noun_de, COLORS[color].0
            ),
            format!(
                "{} {series} {variant} {power_en} W {cct} K {}",
                spec.noun_en, COLORS[color].1
            ),
        )
    } else {
        (
            format!("{} {series} {variant} {}", spec.noun_de, COLORS[color].0),
            format!("{} {series} {variant} {}", spec.noun_en, COLORS[color].1),
        )
    };
    let dimmable = rng.chance(0.6);
    let price_eur = (rng.range(1_990, 89_000) as f64 / 10.0).round() / 10.0 + 0.0;
    let price_eur = (price_eur * 100.0).round() / 100.0;
    Product {
        index,
        key,
        family,
        series,
        gtin,
        mpn,
        name_de,
        name_en,
        color,
        material: rng.pick(&MATERIALS),
        power,
        lumen,
        cct,
        cri,
        ip: rng.pick(&IPS),
        protection_class: rng.pick(&["I", "II", "III"]),
        voltage: rng.pick(&[230, 230, 230, 24, 48]),
        beam: rng.pick(&BEAMS),
        dimmable,
        dimming: if dimmable { rng.pick(&DIMMING) } else { "" },
        weight: rng.range(80, 9_500) as f64 / 1000.0,
        length: rng.range(40, 1_500) as u32,
        width: rng.range(30, 400) as u32,
        height: rng.range(20, 250) as u32,
        lifetime: rng.pick(&[50_000, 60_000, 70_000, 100_000]),
        price_eur,
        price_chf: ((price_eur * 1.08) * 20.0).round() / 20.0,
        vpe: rng.pick(&[1, 1, 1, 2, 5, 10, 20]),
        origin: rng.pick(&ORIGINS),
        lead_days: rng.pick(&[2, 3, 5, 10, 15, 20, 30, 45]),
        valid_from: crate::format::excel_serial(
            2024 + rng.range(0, 2) as i32,
            rng.range(1, 12) as u32,
            1,
        ),
        status: rng.pick(&["aktiv", "aktiv", "aktiv", "aktiv", "neu", "Auslauf"]),
        warranty: rng.pick(&[3, 5, 5, 5]),
    }
}

/// The ETIM class code as the delivery states it for a product: its
/// family's class for most, none for about 15 % and a malformed or unknown
/// code for about 0.5 %, spread over all families, so that classification
/// has labelled products to learn from and unlabelled ones to classify.
/// Drawn from its own stream: the rest of the delivery is unchanged by it.
pub fn delivered_class(product: &Product, seed: u64) -> Option<String> {
    let mut rng = Rng::derive(seed, 0x4554_494d ^ ((product.index as u64) << 20));
    let code = product.family().etim;
    match rng.below(1000) {
        0..150 => None,
        150..155 => Some(match rng.below(3) {
            // A zero lost on the way through a spreadsheet.
            0 => code.replacen("EC0", "EC", 1),
            // Not a class of the model (outdated or made up).
            1 => "EC999999".to_owned(),
            // The class group instead of the class.
            _ => "EG000027".to_owned(),
        }),
        _ => Some(code.to_owned()),
    }
}

/// A GTIN-13 from 12 digits and the GS1 check digit.
pub fn gtin13(body: u64) -> String {
    let digits = format!("{body:012}");
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, d)| u32::from(d - b'0') * if i % 2 == 0 { 3 } else { 1 })
        .sum();
    format!("{digits}{}", (10 - sum % 10) % 10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gtin_check_digit() {
        // 4006381333931 is a well-known valid EAN.
        assert_eq!(gtin13(400_638_133_393), "4006381333931");
    }

    #[test]
    fn every_family_is_present_at_small_counts() {
        let products = build(20, 1);
        assert_eq!(products.len(), 20);
        for family in 0..FAMILIES.len() {
            assert!(products.iter().any(|p| p.family == family), "{family}");
        }
        assert!(products.windows(2).all(|w| w[0].family <= w[1].family));
    }

    #[test]
    fn family_classes_are_real_and_match_the_nouns() {
        let model = cradle_classify::EtimModel::builtin();
        for family in &FAMILIES {
            assert!(
                model.class(family.etim).is_some(),
                "{} {}",
                family.en,
                family.etim
            );
            for noun in [family.noun_de, family.noun_en, family.de, family.en] {
                let evidence = cradle_classify::Evidence {
                    texts: vec![noun],
                    ..Default::default()
                };
                let found = cradle_classify::classify(&model, &evidence)
                    .unwrap_or_else(|| panic!("{noun}: no class"));
                assert_eq!(found.class, family.etim, "{noun}: {found:?}");
            }
        }
    }

    /// The products held out by `classify --eval`, classified blind from
    /// their names and family alone (no neighbours, no delivered code): the
    /// demo must make the evaluation meaningful and reachable.
    #[test]
    fn held_out_products_are_classified_from_their_names() {
        let model = cradle_classify::EtimModel::builtin();
        let products = build(5_000, 42);
        let mut results = Vec::new();
        for p in &products {
            let Some(code) = delivered_class(p, 42) else {
                continue;
            };
            let Some(expected) = cradle_classify::validate_code(&model, &code)
                .valid()
                .map(str::to_owned)
            else {
                continue;
            };
            if !cradle_classify::holdout(&p.key, 0.2, 1) {
                continue;
            }
            let evidence = cradle_classify::Evidence {
                texts: vec![&p.name_de, &p.name_en, p.family().de],
                ..Default::default()
            };
            results.push((expected, cradle_classify::classify(&model, &evidence)));
        }
        let evaluation =
            cradle_classify::Evaluation::new(results.iter().map(|(e, c)| (e.as_str(), c.as_ref())));
        println!("{evaluation}");
        assert!(evaluation.n > 700, "{}", evaluation.n);
        assert!(evaluation.accuracy_at_1 >= 0.95, "{evaluation}");
    }

    #[test]
    fn delivered_classes_are_mostly_the_family_class() {
        let products = build(20_000, 42);
        let mut missing = 0;
        let mut wrong = 0;
        for p in &products {
            match delivered_class(p, 42) {
                None => missing += 1,
                Some(code) if code != p.family().etim => wrong += 1,
                Some(_) => {}
            }
        }
        assert!((2_700..=3_300).contains(&missing), "{missing}");
        assert!((60..=140).contains(&wrong), "{wrong}");
        for family in 0..FAMILIES.len() {
            let of_family: Vec<_> = products.iter().filter(|p| p.family == family).collect();
            assert!(
                of_family.iter().any(|p| delivered_class(p, 42).is_none()),
                "{family}"
            );
        }
        assert_eq!(
            delivered_class(&products[7], 42),
            delivered_class(&products[7], 42)
        );
    }
}
