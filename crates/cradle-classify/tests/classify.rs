//! The classifier, code validation, feature mapping and evaluation.

use cradle_classify::{
    Classification, CodeCheck, EtimModel, Evaluation, Evidence, FeatureType, Source,
    SourceAttribute, classify, holdout, map_features, validate_code,
};

fn attribute(name: &str, unit: Option<&str>, text: &str, number: Option<f64>) -> SourceAttribute {
    SourceAttribute {
        name: name.to_owned(),
        unit: unit.map(str::to_owned),
        text: text.to_owned(),
        number,
    }
}

fn by_names(model: &EtimModel, texts: &[&str]) -> Classification {
    let evidence = Evidence {
        texts: texts.to_vec(),
        ..Evidence::default()
    };
    classify(model, &evidence).unwrap_or_else(|| panic!("{texts:?}: no class"))
}

#[test]
fn codes_are_normalised_and_checked() {
    let model = EtimModel::builtin();
    let valid = |code: &str| CodeCheck::Valid {
        code: code.to_owned(),
    };
    assert_eq!(validate_code(&model, "EC001744"), valid("EC001744"));
    assert_eq!(validate_code(&model, " EC001744 "), valid("EC001744"));
    assert_eq!(validate_code(&model, "ec1744"), valid("EC001744"));
    assert_eq!(validate_code(&model, "EC-002710"), valid("EC002710"));
    assert_eq!(
        validate_code(&model, "EC999999"),
        CodeCheck::Unknown {
            code: "EC999999".to_owned()
        }
    );
    // A lost zero: malformed, with the class it may have meant.
    assert_eq!(
        validate_code(&model, "EC01744"),
        CodeCheck::Malformed {
            raw: "EC01744".to_owned(),
            suggestion: Some("EC001744".to_owned())
        }
    );
    for raw in ["EG000027", "EC0017444", "Downlight", "", "EC"] {
        assert!(
            matches!(validate_code(&model, raw), CodeCheck::Malformed { .. }),
            "{raw}"
        );
    }
}

#[test]
fn a_valid_delivered_code_wins() {
    let model = EtimModel::builtin();
    let evidence = Evidence {
        delivered_code: Some("ec1743"),
        texts: vec!["Pendelleuchte LUMA 120 24 W"],
        ..Evidence::default()
    };
    let found = classify(&model, &evidence).unwrap();
    assert_eq!(found.class, "EC001743");
    assert_eq!(found.source, Source::Delivered);
    assert_eq!(found.source.as_str(), "delivered");
    assert_eq!(found.confidence, 1.0);
    assert_eq!(found.alternatives[0], ("EC001743".to_owned(), 1.0));

    // Evidence that clearly says otherwise lowers the confidence.
    let evidence = Evidence {
        delivered_code: Some("EC002710"),
        texts: vec!["Pendelleuchte LUMA 120", "Pendant luminaire LUMA 120"],
        ..Evidence::default()
    };
    let found = classify(&model, &evidence).unwrap();
    assert_eq!(found.class, "EC002710");
    assert!(found.confidence < 1.0, "{found:?}");
    assert_eq!(found.alternatives[1].0, "EC001743");
}

#[test]
fn an_invalid_delivered_code_is_reported_not_used() {
    let model = EtimModel::builtin();
    for code in ["EC01744", "EC999999", "EG000027"] {
        let evidence = Evidence {
            delivered_code: Some(code),
            texts: vec!["Stromschiene TRACK3 411 schwarz"],
            ..Evidence::default()
        };
        let found = classify(&model, &evidence).unwrap();
        assert_eq!(found.class, "EC000101", "{code}");
        assert_eq!(found.source, Source::Names);
        let check = found.delivered.unwrap();
        assert!(check.valid().is_none(), "{code}: {check}");
    }
    // Nothing else known: no class.
    let evidence = Evidence {
        delivered_code: Some("EC999999"),
        ..Evidence::default()
    };
    assert_eq!(classify(&model, &evidence), None);
}

#[test]
fn names_in_german_and_english_and_compounds() {
    let model = EtimModel::builtin();
    let cases = [
        ("Einbaudownlight AERO 120 weiß", "EC001744"),
        ("LED-Pendelleuchte SOLA 7,5 W", "EC001743"),
        ("Pendelleuchten", "EC001743"),
        ("Pendant luminaire ARCO 15.0 W 3000 K black", "EC001743"),
        ("Strahler FOCUS 340 12,5 W 3000 K schwarz", "EC001744"),
        ("Spotlight VELA for 3-phase tracks", "EC001744"),
        ("Wand-/Deckenleuchte CUBO 12 W", "EC002892"),
        ("Wall/ceiling luminaire DISCO", "EC002892"),
        ("Lichtbandleuchte LINEA 1500 mm", "EC000109"),
        ("Pollerleuchte TERRA 650 mm anthrazit", "EC000301"),
        ("Bollard luminaires", "EC000301"),
        ("Straßenleuchte VIA 55 W", "EC000062"),
        ("Mastaufsatzleuchte STRADA", "EC000062"),
        ("Bodeneinbauleuchte IP67", "EC000758"),
        ("Bodenstrahler befahrbar", "EC000758"),
        ("Stehleuchte mit Deckenfluter", "EC000300"),
        ("LED-Streifen FLEX 5 m 24 V", "EC002706"),
        ("Flexible LED strips", "EC002706"),
        ("LED-Treiber DRIVE 350 mA DALI", "EC002710"),
        ("LED driver 75 W constant current", "EC002710"),
        ("3-Phasen-Stromschiene 2 m", "EC000101"),
        ("Zubehör CLIP Montagebügel", "EC002557"),
    ];
    for (text, expected) in cases {
        let found = by_names(&model, &[text]);
        assert_eq!(found.class, expected, "{text}: {found:?}");
        assert_eq!(found.source, Source::Names, "{text}");
        assert!(found.confidence > 0.5, "{text}: {found:?}");
        assert!(found.alternatives.len() <= 3);
        assert_eq!(found.alternatives[0].0, expected);
    }
    // A word that only starts like a class name is no evidence.
    let evidence = Evidence {
        texts: vec!["Pendelrohr 1 m", "Hotspot"],
        ..Evidence::default()
    };
    assert_eq!(classify(&model, &evidence), None);
}

#[test]
fn the_product_noun_beats_a_mention() {
    let model = EtimModel::builtin();
    let found = by_names(&model, &["Strahler KORA für Stromschienen"]);
    assert_eq!(found.class, "EC001744", "{found:?}");
    assert_eq!(found.alternatives[1].0, "EC000101", "{found:?}");
}

#[test]
fn attributes_tell_luminaires_from_drivers() {
    let model = EtimModel::builtin();
    let attributes = [
        attribute("Lichtstrom [lm]", None, "1200", Some(1200.0)),
        attribute("IP-Schutzart", None, "IP44", None),
        attribute("Farbtemperatur [K]", None, "3000", Some(3000.0)),
        attribute("CRI", None, "Ra>89", None),
        attribute("Garantie [Jahre]", None, "5", Some(5.0)),
    ];
    let evidence = Evidence {
        attributes: &attributes,
        ..Evidence::default()
    };
    let found = classify(&model, &evidence).unwrap();
    assert_eq!(found.source, Source::Attributes);
    let group = model.class(&found.class).unwrap().group.as_deref();
    assert_eq!(group, Some("EG000027"), "{found:?}");
    for (class, _) in &found.alternatives {
        assert!(!["EC002710", "EC000101", "EC002557"].contains(&class.as_str()));
    }
    // Attributes alone cannot tell one luminaire from another.
    assert!(found.confidence < 0.3, "{found:?}");

    // With a name the attributes support, the name decides.
    let evidence = Evidence {
        texts: vec!["Pollerleuchte TERRA"],
        attributes: &attributes,
        ..Evidence::default()
    };
    let found = classify(&model, &evidence).unwrap();
    assert_eq!(found.class, "EC000301");
    assert_eq!(found.source, Source::Names);
    assert!(found.confidence > 0.7, "{found:?}");

    // Votes split between a luminaire and a driver: the attributes decide.
    let neighbours = [("EC002710".to_owned(), 0.9), ("EC001744".to_owned(), 0.9)];
    let evidence = Evidence {
        attributes: &attributes,
        neighbours: &neighbours,
        ..Evidence::default()
    };
    let found = classify(&model, &evidence).unwrap();
    assert_eq!(found.class, "EC001744");
    assert_eq!(found.source, Source::Attributes);

    // A name the attributes contradict leaves little confidence.
    let evidence = Evidence {
        texts: vec!["LED-Treiber DRIVE 350"],
        attributes: &attributes,
        ..Evidence::default()
    };
    let found = classify(&model, &evidence).unwrap();
    assert!(found.confidence < 0.2, "{found:?}");
}

#[test]
fn neighbour_votes_are_weighted_by_similarity() {
    let model = EtimModel::builtin();
    let neighbours = [
        ("EC002892".to_owned(), 0.92),
        ("EC002892".to_owned(), 0.88),
        ("EC001744".to_owned(), 0.95),
        ("EC002892".to_owned(), 0.81),
        ("EC999999".to_owned(), 0.99),
    ];
    let evidence = Evidence {
        texts: vec!["PLANA 300 weiß"],
        neighbours: &neighbours,
        ..Evidence::default()
    };
    let found = classify(&model, &evidence).unwrap();
    assert_eq!(found.class, "EC002892");
    assert_eq!(found.source, Source::Neighbours);
    assert_eq!(found.source.as_str(), "neighbours");
    assert_eq!(found.alternatives[1].0, "EC001744");
}

#[test]
fn disagreement_lowers_the_confidence() {
    let model = EtimModel::builtin();
    let agreeing = [
        ("EC001743".to_owned(), 0.9),
        ("EC001743".to_owned(), 0.9),
        ("EC001743".to_owned(), 0.85),
    ];
    let disagreeing = [
        ("EC002892".to_owned(), 0.9),
        ("EC002892".to_owned(), 0.9),
        ("EC002892".to_owned(), 0.85),
    ];
    let texts = vec!["Pendelleuchte SOLA 7,5 W"];
    let names_only = by_names(&model, &texts);
    let with = |neighbours: &[(String, f32)]| {
        classify(
            &model,
            &Evidence {
                texts: texts.clone(),
                neighbours,
                ..Evidence::default()
            },
        )
        .unwrap()
    };
    let agree = with(&agreeing);
    let disagree = with(&disagreeing);
    assert_eq!(agree.class, "EC001743");
    assert!(
        agree.confidence > names_only.confidence,
        "{agree:?} {names_only:?}"
    );
    assert!(agree.confidence > 0.9, "{agree:?}");
    assert!(disagree.confidence < 0.6, "{disagree:?}");
    assert!(disagree.confidence < names_only.confidence);
    let classes: Vec<&str> = disagree
        .alternatives
        .iter()
        .map(|(c, _)| c.as_str())
        .collect();
    assert!(
        classes.contains(&"EC001743") && classes.contains(&"EC002892"),
        "{classes:?}"
    );
}

#[test]
fn features_map_where_names_and_units_agree() {
    let model = EtimModel::builtin();
    let attributes = [
        attribute("Leistung [W]", None, "12,5", Some(12.5)),
        attribute("Lichtstrom", Some("lm"), "1.450", Some(1450.0)),
        attribute("Nettogewicht [g]", None, "850", Some(850.0)),
        attribute("Bruttogewicht [kg]", None, "1,1", Some(1.1)),
        attribute("Höhe [cm]", None, "12", Some(12.0)),
        attribute("Schutzklasse", None, "II", None),
        attribute("Dimmbar", None, "ja", None),
        attribute("IP-Schutzart", None, "IP44", None),
        attribute("Abstrahlwinkel [°]", None, "36", Some(36.0)),
        attribute("Farbtemperatur", Some("V"), "230", Some(230.0)),
        attribute("EF009346", Some("K"), "3000", Some(3000.0)),
        attribute("Garantie [Jahre]", None, "5", Some(5.0)),
        attribute("Breite", None, "", None),
    ];
    let found = map_features(&model, "EC001744", &attributes);
    let get = |feature: &str| found.iter().find(|m| m.feature == feature);

    let power = get("EF000280").unwrap();
    assert_eq!((power.attribute, power.number), (0, Some(12.5)));
    assert_eq!(power.kind, FeatureType::Range);
    assert_eq!(get("EF018714").unwrap().number, Some(1450.0));
    let weight = get("EF000167").unwrap();
    assert_eq!(weight.attribute, 2, "net weight, not gross");
    assert!((weight.number.unwrap() - 0.85).abs() < 1e-9);
    assert!(weight.reason.contains("converted"), "{}", weight.reason);
    assert_eq!(get("EF001456").unwrap().number, Some(120.0));
    assert_eq!(get("EF000004").unwrap().value.as_deref(), Some("EV000583"));
    assert_eq!(get("EF000137").unwrap().logical, Some(true));
    assert_eq!(get("EF003118").unwrap().attribute, 7);
    // A measured angle is no value code; a temperature is not in volts.
    assert!(get("EF008157").is_none());
    let cct = get("EF009346").unwrap();
    assert_eq!(
        cct.attribute, 10,
        "named by its code, the volts are skipped"
    );
    assert!(cct.reason.contains("code"), "{}", cct.reason);
    assert!(get("EF000008").is_none(), "an empty cell maps to nothing");
    assert!(found.iter().all(|m| m.attribute != 3 && m.attribute != 11));

    // A driver has no luminous flux.
    let driver = map_features(&model, "EC002710", &attributes);
    assert!(driver.iter().all(|m| m.feature != "EF018714"));
    assert!(driver.iter().any(|m| m.feature == "EF000137"));
    assert!(map_features(&model, "EC999999", &attributes).is_empty());
}

#[test]
fn holdout_is_deterministic_and_near_its_share() {
    let ids: Vec<String> = (0..20_000).map(|i| format!("LW-{}", 100_000 + i)).collect();
    let held: Vec<bool> = ids.iter().map(|id| holdout(id, 0.2, 7)).collect();
    let again: Vec<bool> = ids.iter().rev().map(|id| holdout(id, 0.2, 7)).collect();
    assert_eq!(held, again.into_iter().rev().collect::<Vec<_>>());
    let count = held.iter().filter(|h| **h).count();
    assert!((3_700..=4_300).contains(&count), "{count}");
    let other_seed = ids.iter().filter(|id| holdout(id, 0.2, 8)).count();
    let same_both = ids
        .iter()
        .filter(|id| holdout(id, 0.2, 7) && holdout(id, 0.2, 8))
        .count();
    assert!((3_700..=4_300).contains(&other_seed));
    assert!(
        same_both < 1_200,
        "seeds give different splits: {same_both}"
    );
    assert!(!ids.iter().any(|id| holdout(id, 0.0, 7)));
    assert!(ids.iter().all(|id| holdout(id, 1.0, 7)));
}

fn classification(class: &str, alternatives: &[&str]) -> Classification {
    Classification {
        class: class.to_owned(),
        confidence: 0.9,
        alternatives: alternatives
            .iter()
            .map(|a| ((*a).to_owned(), 0.5))
            .collect(),
        source: Source::Names,
        delivered: None,
    }
}

#[test]
fn evaluation_counts_accuracy_and_confusions() {
    let right = classification("EC001744", &["EC001744", "EC002892"]);
    let second = classification("EC002892", &["EC002892", "EC001744", "EC001743"]);
    let fourth = classification("EC002892", &["EC002892", "EC001743", "EC000109"]);
    let pairs = [
        ("EC001744", Some(&right)),
        ("EC001744", Some(&right)),
        ("EC001744", Some(&second)),
        ("EC001744", Some(&fourth)),
        ("EC002710", None),
    ];
    let evaluation = Evaluation::new(pairs);
    assert_eq!(evaluation.n, 5);
    assert!((evaluation.accuracy_at_1 - 0.4).abs() < 1e-9);
    assert!((evaluation.accuracy_at_3 - 0.6).abs() < 1e-9);
    assert_eq!(evaluation.confusion[0].count, 2);
    let wrong = evaluation
        .confusion
        .iter()
        .find(|r| r.expected == "EC001744" && r.predicted.as_deref() == Some("EC002892"))
        .unwrap();
    assert_eq!(wrong.count, 2);
    assert_eq!(
        evaluation.per_class(),
        [("EC001744".to_owned(), 4, 2), ("EC002710".to_owned(), 1, 0)]
    );
    let text = evaluation.to_string();
    assert!(
        text.contains("accuracy@1 0.400, accuracy@3 0.600"),
        "{text}"
    );
    assert!(text.contains("EC001744 -> EC002892: 2"), "{text}");
    assert!(text.contains("EC002710 -> (none): 1"), "{text}");
    assert_eq!(Evaluation::new([]).accuracy_at_1, 0.0);
}
