//! The ETIM model loader: the shipped excerpt (UTF-16, every table, both
//! languages) and broken exports, whose errors must name file and line.

use cradle_classify::{ClassifyError, EtimModel, FeatureType};
use std::path::{Path, PathBuf};

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data/etim")
}

fn utf16(text: &str) -> Vec<u8> {
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    bytes
}

/// A copy of the English excerpt in a temporary folder with one table
/// replaced (or removed, when `content` is `None`).
fn broken(table: &str, content: Option<Vec<u8>>) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let release = dir.path().join("ETIM-10.0-LIGHTING-CSV-METRIC-EI");
    std::fs::create_dir(&release).unwrap();
    for entry in std::fs::read_dir(data_dir().join("EN")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, release.join(path.file_name().unwrap())).unwrap();
    }
    let target = release.join(format!("{table}.csv"));
    match content {
        Some(bytes) => std::fs::write(&target, bytes).unwrap(),
        None => std::fs::remove_file(&target).unwrap(),
    }
    (dir, target)
}

#[test]
fn the_builtin_excerpt_has_every_table_in_both_languages() {
    let model = EtimModel::builtin();
    assert_eq!(model.languages(), ["en", "de"]);
    assert_eq!(model.classes().len(), 12);

    // ETIMARTCLASS, with UTF-16 text beyond ASCII.
    let downlight = model.class("EC001744").unwrap();
    assert_eq!(
        downlight.description("en"),
        Some("Downlight/spot/floodlight")
    );
    assert_eq!(
        downlight.description("de"),
        Some("Downlight/Strahler/Fluter")
    );
    assert_eq!(downlight.group.as_deref(), Some("EG000027"));
    let street = model.class("EC000062").unwrap();
    assert_eq!(
        street.description("de"),
        Some("Leuchte für Straßen und Plätze")
    );
    assert_eq!(street.name(), "Luminaire for streets and places");

    // ETIMARTCLASSSYNONYMMAP, both languages.
    let synonyms: Vec<&str> = model.synonyms("EC001743").collect();
    assert!(synonyms.contains(&"Pendant light"), "{synonyms:?}");
    assert!(synonyms.contains(&"Hängeleuchte"), "{synonyms:?}");

    // ETIMFEATURE, ETIMUNIT and ETIMARTCLASSFEATUREMAP.
    let cct = model
        .features_of("EC001744")
        .iter()
        .find(|f| f.feature == "EF009346")
        .unwrap();
    assert_eq!(cct.kind, FeatureType::Numeric);
    assert_eq!(cct.unit.as_deref(), Some("EU570076"));
    assert_eq!(model.unit("EU570076").unwrap().symbol.as_deref(), Some("K"));
    assert_eq!(
        model.unit("EU570448").unwrap().symbol.as_deref(),
        Some("mm")
    );
    assert_eq!(
        model.feature("EF018714").unwrap().description("en"),
        Some("Rated luminous flux according to IEC 62722-2-1")
    );
    assert_eq!(
        model.feature("EF001456").unwrap().description("de"),
        Some("Höhe")
    );
    let sorts: Vec<u32> = model
        .features_of("EC002710")
        .iter()
        .map(|f| f.sort)
        .collect();
    assert!(sorts.windows(2).all(|w| w[0] < w[1]), "{sorts:?}");
    assert!(
        !model
            .features_of("EC002710")
            .iter()
            .any(|f| f.feature == "EF018714"),
        "an LED driver has no luminous flux"
    );

    // ETIMVALUE and ETIMARTCLASSFEATUREVALUEMAP.
    assert_eq!(
        model.value("EV000206").unwrap().description("de"),
        Some("Schwarz")
    );
    let protection = model
        .features_of("EC002892")
        .iter()
        .find(|f| f.feature == "EF000004")
        .unwrap();
    assert_eq!(protection.values, ["EV000583", "EV006167"]);
    assert!(model.features_of("EC123456").is_empty());
}

#[test]
fn the_data_folder_loads_like_the_builtin_model() {
    let loaded = EtimModel::load_dir(&data_dir()).unwrap();
    let builtin = EtimModel::builtin();
    assert_eq!(loaded.languages(), builtin.languages());
    assert_eq!(loaded.classes().len(), builtin.classes().len());
    for class in builtin.classes() {
        let other = loaded.class(&class.code).unwrap();
        assert_eq!(other.descriptions, class.descriptions);
        assert_eq!(other.synonyms, class.synonyms);
        assert_eq!(other.features.len(), class.features.len());
    }
}

#[test]
fn one_release_folder_loads_and_its_language_comes_from_the_name() {
    let (dir, _) = broken(
        "ETIMVALUE",
        Some(std::fs::read(data_dir().join("EN/ETIMVALUE.csv")).unwrap()),
    );
    let model = EtimModel::load_dir(dir.path()).unwrap();
    assert_eq!(model.languages(), ["en"]);
    assert_eq!(
        model.class("EC002710").unwrap().description("en"),
        Some("LED driver")
    );
    // The release folder itself works too.
    let release = dir.path().join("ETIM-10.0-LIGHTING-CSV-METRIC-EI");
    assert_eq!(EtimModel::load_dir(&release).unwrap().classes().len(), 12);
}

#[test]
fn utf16_without_bom_is_read() {
    let text = "UNITOFMEASID;UNITDESC\r\nEU570054;Watt\r\nEU570076;Kelvin\r\nEU570079;Volt\r\nEU570108;Lumen\r\nEU570448;Millimetre\r\nEU570254;Kilogram\r\n";
    let bytes: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let (dir, _) = broken("ETIMUNIT", Some(bytes));
    let model = EtimModel::load_dir(dir.path()).unwrap();
    assert_eq!(
        model.unit("EU570254").unwrap().symbol.as_deref(),
        Some("kg")
    );
}

fn message(error: ClassifyError) -> String {
    error.to_string()
}

#[test]
fn a_utf8_file_is_reported_with_file_and_line() {
    let (dir, path) = broken(
        "ETIMFEATURE",
        Some(b"FEATUREID;FEATUREGROUPID;FEATUREDESC\nEF000008;;Width\n".to_vec()),
    );
    let error = EtimModel::load_dir(dir.path()).unwrap_err();
    assert!(
        matches!(error, ClassifyError::Encoding { line: 1, .. }),
        "{error:?}"
    );
    let text = message(error);
    assert!(text.contains(&format!("{}:1:", path.display())), "{text}");
    assert!(text.contains("hint:"), "{text}");
}

#[test]
fn broken_utf16_is_reported_at_its_line() {
    let mut bytes = utf16("VALUEID;VALUEDESC\r\nEV000583;II\r\n");
    // An unpaired high surrogate on line 3.
    bytes.extend([0x00, 0xD8, b'x', 0x00]);
    let (dir, path) = broken("ETIMVALUE", Some(bytes));
    let error = EtimModel::load_dir(dir.path()).unwrap_err();
    let text = error.to_string();
    assert!(
        matches!(error, ClassifyError::Encoding { line: 3, .. }),
        "{error:?}"
    );
    assert!(text.contains(&format!("{}:3:", path.display())), "{text}");
}

#[test]
fn a_missing_column_names_the_file_and_the_column() {
    let (dir, path) = broken(
        "ETIMARTCLASSFEATUREMAP",
        Some(utf16(
            "ARTCLASSFEATURENR;ARTCLASSID;FEATUREID;UNITOFMEASID;SORTNR\r\n1;EC001744;EF000008;EU570448;1\r\n",
        )),
    );
    let error = EtimModel::load_dir(dir.path()).unwrap_err();
    let text = error.to_string();
    assert!(
        matches!(
            error,
            ClassifyError::MissingColumn {
                column: "FEATURETYPE",
                ..
            }
        ),
        "{error:?}"
    );
    assert!(text.contains(&path.display().to_string()), "{text}");
}

#[test]
fn a_bad_line_is_reported_with_its_number() {
    // Line 3 has a field too many.
    let (dir, path) = broken(
        "ETIMUNIT",
        Some(utf16(
            "UNITOFMEASID;UNITDESC\r\nEU570054;Watt\r\nEU570076;Kelvin;K\r\n",
        )),
    );
    let error = EtimModel::load_dir(dir.path()).unwrap_err();
    assert!(
        matches!(
            error,
            ClassifyError::FieldCount {
                line: 3,
                found: 3,
                expected: 2,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .contains(&format!("{}:3:", path.display()))
    );

    // Line 2 names a feature type ETIM does not have.
    let (dir, path) = broken(
        "ETIMARTCLASSFEATUREMAP",
        Some(utf16(
            "ARTCLASSFEATURENR;ARTCLASSID;FEATUREID;FEATURETYPE;UNITOFMEASID;SORTNR\r\n1;EC001744;EF000008;X;EU570448;1\r\n",
        )),
    );
    let error = EtimModel::load_dir(dir.path()).unwrap_err();
    let text = error.to_string();
    assert!(
        matches!(
            error,
            ClassifyError::BadValue {
                line: 2,
                column: "FEATURETYPE",
                ..
            }
        ),
        "{text}"
    );
    assert!(text.contains(&format!("{}:2:", path.display())), "{text}");

    // A class code that is not one.
    let (dir, _) = broken(
        "ETIMARTCLASS",
        Some(utf16(
            "ARTCLASSID;ARTGROUPID;ARTCLASSDESC;ARTCLASSVERSION;ARTCLASSVERSIONDATE\r\nEC001744;EG000027;Downlight;;\r\nLeuchte;EG000027;x;;\r\n",
        )),
    );
    let error = EtimModel::load_dir(dir.path()).unwrap_err();
    assert!(
        matches!(
            error,
            ClassifyError::BadValue {
                line: 3,
                column: "ARTCLASSID",
                ..
            }
        ),
        "{error:?}"
    );
}

#[test]
fn missing_tables_and_releases_are_named() {
    let (dir, _) = broken("ETIMARTCLASSSYNONYMMAP", None);
    let error = EtimModel::load_dir(dir.path()).unwrap_err();
    assert!(
        matches!(
            error,
            ClassifyError::MissingTable {
                table: "ETIMARTCLASSSYNONYMMAP",
                ..
            }
        ),
        "{error:?}"
    );
    let empty = tempfile::tempdir().unwrap();
    let error = EtimModel::load_dir(empty.path()).unwrap_err();
    assert!(
        matches!(error, ClassifyError::NoRelease { .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("hint:"));
}
