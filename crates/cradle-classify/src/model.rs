//! The ETIM classification model as published by ETIM International in its
//! CSV export: one folder per language release, each with the tables
//! ETIMARTCLASS, ETIMFEATURE, ETIMVALUE, ETIMUNIT, ETIMARTCLASSFEATUREMAP,
//! ETIMARTCLASSSYNONYMMAP (and optionally ETIMARTCLASSFEATUREVALUEMAP),
//! UTF-16 LE, `;`-separated, with a header line.
//!
//! Codes are the same in every language release; descriptions and synonyms
//! differ. A folder holding the tables itself is one release; a folder whose
//! subfolders hold them (`EN/`, `DE/`, `ETIM-10.0-...-EI-...`) is merged into
//! one model that knows every language.

use crate::error::ClassifyError;
use crate::text;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// The data type of a class feature (column FEATURETYPE).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeatureType {
    /// `A`: a value from the feature's value list (EV code).
    Alphanumeric,
    /// `N`: a number in the class feature's unit.
    Numeric,
    /// `R`: a range (lower, upper) in the class feature's unit.
    Range,
    /// `L`: true or false.
    Logical,
}

impl FeatureType {
    fn parse(raw: &str) -> Option<FeatureType> {
        match raw {
            "A" => Some(FeatureType::Alphanumeric),
            "N" => Some(FeatureType::Numeric),
            "R" => Some(FeatureType::Range),
            "L" => Some(FeatureType::Logical),
            _ => None,
        }
    }

    /// The letter used by ETIM.
    pub fn as_str(self) -> &'static str {
        match self {
            FeatureType::Alphanumeric => "A",
            FeatureType::Numeric => "N",
            FeatureType::Range => "R",
            FeatureType::Logical => "L",
        }
    }
}

/// A text in one language (`en`, `de`, ... from the release folder's name).
#[derive(Debug, Clone, PartialEq)]
pub struct Text {
    pub language: String,
    pub text: String,
}

/// One product class (EC code).
#[derive(Debug, Clone)]
pub struct EtimClass {
    pub code: String,
    /// The class group (EG code), when the export names it.
    pub group: Option<String>,
    pub version: Option<String>,
    pub descriptions: Vec<Text>,
    pub synonyms: Vec<Text>,
    /// The class-feature map, in SORTNR order.
    pub features: Vec<ClassFeature>,
}

impl EtimClass {
    /// The description in `language`, if the model has that language.
    pub fn description(&self, language: &str) -> Option<&str> {
        pick(&self.descriptions, language)
    }

    /// A name for reports: English if loaded, else the first language.
    pub fn name(&self) -> &str {
        self.description("en")
            .or_else(|| self.descriptions.first().map(|d| d.text.as_str()))
            .unwrap_or(&self.code)
    }
}

/// A feature of a class: its type, unit and allowed values.
#[derive(Debug, Clone)]
pub struct ClassFeature {
    pub feature: String,
    pub kind: FeatureType,
    /// ETIM unit (EU code) of numeric and range features.
    pub unit: Option<String>,
    pub sort: u32,
    /// Allowed values (EV codes) from ETIMARTCLASSFEATUREVALUEMAP.
    pub values: Vec<String>,
}

/// A feature (EF code).
#[derive(Debug, Clone)]
pub struct Feature {
    pub code: String,
    pub group: Option<String>,
    pub descriptions: Vec<Text>,
}

impl Feature {
    pub fn description(&self, language: &str) -> Option<&str> {
        pick(&self.descriptions, language)
    }
}

/// A unit of measure (EU code).
#[derive(Debug, Clone)]
pub struct Unit {
    pub code: String,
    pub descriptions: Vec<Text>,
    /// The symbol (`mm`, `W`, `lm`), from UNITABBREV when the export has it,
    /// else recognised from the description.
    pub symbol: Option<String>,
}

/// A value (EV code) of alphanumeric features.
#[derive(Debug, Clone)]
pub struct Value {
    pub code: String,
    pub descriptions: Vec<Text>,
}

impl Value {
    pub fn description(&self, language: &str) -> Option<&str> {
        pick(&self.descriptions, language)
    }
}

fn pick<'t>(texts: &'t [Text], language: &str) -> Option<&'t str> {
    texts
        .iter()
        .find(|t| t.language == language)
        .map(|t| t.text.as_str())
}

/// The ETIM model: classes, features, units, values and the maps between
/// them, in every language loaded.
#[derive(Debug, Clone)]
pub struct EtimModel {
    classes: Vec<EtimClass>,
    class_index: HashMap<String, usize>,
    features: BTreeMap<String, Feature>,
    units: BTreeMap<String, Unit>,
    values: BTreeMap<String, Value>,
    languages: Vec<String>,
    /// Class names and synonyms prepared for matching in product texts.
    pub(crate) terms: Vec<text::Term>,
    pub(crate) term_index: text::TermIndex,
    /// Header names of features, for mapping source attributes.
    pub(crate) headers: crate::features::HeaderIndex,
    /// Feature code → positions of the classes that have it.
    feature_classes: HashMap<String, Vec<usize>>,
}

const CLASS: &str = "ETIMARTCLASS";
const FEATURE: &str = "ETIMFEATURE";
const VALUE: &str = "ETIMVALUE";
const UNIT: &str = "ETIMUNIT";
const CLASS_FEATURE: &str = "ETIMARTCLASSFEATUREMAP";
const CLASS_FEATURE_VALUE: &str = "ETIMARTCLASSFEATUREVALUEMAP";
const SYNONYM: &str = "ETIMARTCLASSSYNONYMMAP";

/// Where one release's tables come from: a folder or the embedded excerpt.
trait Source {
    fn read(&self, table: &str) -> Result<Option<(PathBuf, Vec<u8>)>, ClassifyError>;
    fn location(&self) -> PathBuf;
}

struct Folder(PathBuf);

impl Source for Folder {
    fn read(&self, table: &str) -> Result<Option<(PathBuf, Vec<u8>)>, ClassifyError> {
        let Some(path) = find_file(&self.0, table)? else {
            return Ok(None);
        };
        let bytes = std::fs::read(&path).map_err(|source| ClassifyError::Read {
            path: path.clone(),
            source,
        })?;
        Ok(Some((path, bytes)))
    }

    fn location(&self) -> PathBuf {
        self.0.clone()
    }
}

/// `ETIMARTCLASS.csv` in any case of the name (exports from Windows tools
/// sometimes lower-case it).
fn find_file(dir: &Path, table: &str) -> Result<Option<PathBuf>, ClassifyError> {
    let exact = dir.join(format!("{table}.csv"));
    if exact.is_file() {
        return Ok(Some(exact));
    }
    let entries = std::fs::read_dir(dir).map_err(|source| ClassifyError::Read {
        path: dir.to_path_buf(),
        source,
    })?;
    let wanted = format!("{table}.csv").to_ascii_lowercase();
    let mut found: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.is_file()
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.to_ascii_lowercase() == wanted)
        })
        .collect();
    found.sort();
    Ok(found.into_iter().next())
}

struct Embedded {
    folder: &'static str,
    files: &'static [(&'static str, &'static [u8])],
}

impl Source for Embedded {
    fn read(&self, table: &str) -> Result<Option<(PathBuf, Vec<u8>)>, ClassifyError> {
        Ok(self
            .files
            .iter()
            .find(|(name, _)| *name == table)
            .map(|(name, bytes)| (self.location().join(format!("{name}.csv")), bytes.to_vec())))
    }

    fn location(&self) -> PathBuf {
        PathBuf::from(format!("<builtin>/data/etim/{}", self.folder))
    }
}

macro_rules! release {
    ($folder:literal) => {
        Embedded {
            folder: $folder,
            files: &[
                (
                    CLASS,
                    include_bytes!(concat!("../data/etim/", $folder, "/ETIMARTCLASS.csv")),
                ),
                (
                    FEATURE,
                    include_bytes!(concat!("../data/etim/", $folder, "/ETIMFEATURE.csv")),
                ),
                (
                    VALUE,
                    include_bytes!(concat!("../data/etim/", $folder, "/ETIMVALUE.csv")),
                ),
                (
                    UNIT,
                    include_bytes!(concat!("../data/etim/", $folder, "/ETIMUNIT.csv")),
                ),
                (
                    CLASS_FEATURE,
                    include_bytes!(concat!(
                        "../data/etim/",
                        $folder,
                        "/ETIMARTCLASSFEATUREMAP.csv"
                    )),
                ),
                (
                    CLASS_FEATURE_VALUE,
                    include_bytes!(concat!(
                        "../data/etim/",
                        $folder,
                        "/ETIMARTCLASSFEATUREVALUEMAP.csv"
                    )),
                ),
                (
                    SYNONYM,
                    include_bytes!(concat!(
                        "../data/etim/",
                        $folder,
                        "/ETIMARTCLASSSYNONYMMAP.csv"
                    )),
                ),
            ],
        }
    };
}

impl EtimModel {
    /// The lighting excerpt shipped with cradle (`data/etim/`, English and
    /// German): the demo's and the tests' model.
    pub fn builtin() -> EtimModel {
        let releases = [("en", release!("EN")), ("de", release!("DE"))];
        let mut builder = Builder::default();
        for (language, source) in &releases {
            // The excerpt is checked by the tests; a failure here is a broken build.
            builder
                .add(language, source)
                .unwrap_or_else(|e| panic!("the embedded ETIM excerpt does not load: {e}"));
        }
        builder.finish()
    }

    /// Loads an unpacked ETIM CSV export: `dir` holds the tables of one
    /// release, or subfolders that each hold one language release.
    pub fn load_dir(dir: &Path) -> Result<EtimModel, ClassifyError> {
        let mut releases: Vec<(String, PathBuf)> = Vec::new();
        if find_file(dir, CLASS)?.is_some() {
            releases.push((language_of(dir), dir.to_path_buf()));
        } else {
            let entries = std::fs::read_dir(dir).map_err(|source| ClassifyError::Read {
                path: dir.to_path_buf(),
                source,
            })?;
            let mut subdirs: Vec<PathBuf> = entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect();
            subdirs.sort();
            for sub in subdirs {
                if find_file(&sub, CLASS)?.is_some() {
                    releases.push((language_of(&sub), sub));
                }
            }
        }
        if releases.is_empty() {
            return Err(ClassifyError::NoRelease {
                dir: dir.to_path_buf(),
            });
        }
        // English first: its texts name things in reports.
        releases.sort_by_key(|(language, _)| language != "en");
        let mut builder = Builder::default();
        for (language, path) in releases {
            builder.add(&language, &Folder(path))?;
        }
        Ok(builder.finish())
    }

    pub fn class(&self, code: &str) -> Option<&EtimClass> {
        self.class_index.get(code).map(|&i| &self.classes[i])
    }

    /// All classes, sorted by code.
    pub fn classes(&self) -> &[EtimClass] {
        &self.classes
    }

    /// The class-feature map of `class` (empty for an unknown class).
    pub fn features_of(&self, class: &str) -> &[ClassFeature] {
        self.class(class)
            .map(|c| c.features.as_slice())
            .unwrap_or(&[])
    }

    pub fn feature(&self, code: &str) -> Option<&Feature> {
        self.features.get(code)
    }

    pub fn features(&self) -> impl Iterator<Item = &Feature> {
        self.features.values()
    }

    pub fn unit(&self, code: &str) -> Option<&Unit> {
        self.units.get(code)
    }

    pub fn value(&self, code: &str) -> Option<&Value> {
        self.values.get(code)
    }

    pub fn values(&self) -> impl Iterator<Item = &Value> {
        self.values.values()
    }

    /// The synonyms of `class` in every loaded language.
    pub fn synonyms(&self, class: &str) -> impl Iterator<Item = &str> {
        self.class(class)
            .into_iter()
            .flat_map(|c| c.synonyms.iter().map(|s| s.text.as_str()))
    }

    /// Languages loaded, English first when present.
    pub fn languages(&self) -> &[String] {
        &self.languages
    }

    /// Positions (in [`EtimModel::classes`]) of the classes with `feature`.
    pub(crate) fn classes_with(&self, feature: &str) -> &[usize] {
        self.feature_classes
            .get(feature)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    pub(crate) fn class_position(&self, code: &str) -> Option<usize> {
        self.class_index.get(code).copied()
    }
}

/// The language of a release folder: `EN`, `de`, or the language token of
/// ETIM's archive names (`ETIM-10.0-ALL-SECTORS-CSV-METRIC-EI-2024-12-05`,
/// where EI is English international).
fn language_of(dir: &Path) -> String {
    let name = dir
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    const KNOWN: [&str; 16] = [
        "en", "de", "nl", "fr", "it", "es", "sv", "fi", "no", "da", "pl", "cs", "pt", "hu", "ro",
        "sk",
    ];
    for token in name.split(['-', '_', '.', ' ']) {
        if token == "ei" {
            return "en".to_owned();
        }
        if KNOWN.contains(&token) {
            return token.to_owned();
        }
    }
    "und".to_owned()
}

#[derive(Default)]
struct Builder {
    classes: BTreeMap<String, EtimClass>,
    features: BTreeMap<String, Feature>,
    units: BTreeMap<String, Unit>,
    values: BTreeMap<String, Value>,
    languages: Vec<String>,
}

/// One decoded table: its path, header and rows with their line numbers.
struct Table {
    path: PathBuf,
    header: Vec<String>,
    rows: Vec<(u64, Vec<String>)>,
}

impl Table {
    fn column(&self, name: &'static str) -> Result<usize, ClassifyError> {
        self.header
            .iter()
            .position(|h| h.eq_ignore_ascii_case(name))
            .ok_or_else(|| ClassifyError::MissingColumn {
                path: self.path.clone(),
                column: name,
                found: self.header.join(";"),
            })
    }

    fn optional(&self, name: &str) -> Option<usize> {
        self.header
            .iter()
            .position(|h| h.eq_ignore_ascii_case(name))
    }

    fn bad(&self, line: u64, column: &'static str, value: &str, reason: &str) -> ClassifyError {
        ClassifyError::BadValue {
            path: self.path.clone(),
            line,
            column,
            value: value.to_owned(),
            reason: reason.to_owned(),
        }
    }
}

fn cell(row: &[String], index: usize) -> &str {
    row.get(index).map(|s| s.trim()).unwrap_or("")
}

fn optional_cell(row: &[String], index: Option<usize>) -> Option<String> {
    index
        .map(|i| cell(row, i))
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn code_check(
    table: &Table,
    line: u64,
    column: &'static str,
    value: &str,
    prefix: &str,
) -> Result<(), ClassifyError> {
    let well_formed = value.len() == 8
        && value.starts_with(prefix)
        && value[2..].bytes().all(|b| b.is_ascii_alphanumeric());
    if well_formed {
        Ok(())
    } else {
        Err(table.bad(
            line,
            column,
            value,
            &format!("not an ETIM code ({prefix} and six characters); hint: check that the column order matches the header"),
        ))
    }
}

impl Builder {
    fn add(&mut self, language: &str, source: &dyn Source) -> Result<(), ClassifyError> {
        let table = |name: &'static str| -> Result<Table, ClassifyError> {
            let (path, bytes) = source
                .read(name)?
                .ok_or_else(|| ClassifyError::MissingTable {
                    dir: source.location(),
                    table: name,
                })?;
            parse(path, &bytes)
        };
        let text = |s: &str| Text {
            language: language.to_owned(),
            text: s.to_owned(),
        };
        if !self.languages.iter().any(|l| l == language) {
            self.languages.push(language.to_owned());
        }

        let units = table(UNIT)?;
        let (id, desc) = (units.column("UNITOFMEASID")?, units.column("UNITDESC")?);
        let abbreviation = units.optional("UNITABBREV");
        for (line, row) in &units.rows {
            let code = cell(row, id);
            code_check(&units, *line, "UNITOFMEASID", code, "EU")?;
            let description = cell(row, desc);
            let unit = self.units.entry(code.to_owned()).or_insert_with(|| Unit {
                code: code.to_owned(),
                descriptions: Vec::new(),
                symbol: None,
            });
            unit.descriptions.push(text(description));
            if unit.symbol.is_none() {
                unit.symbol = optional_cell(row, abbreviation)
                    .or_else(|| crate::features::unit_symbol(description).map(str::to_owned));
            }
        }

        let values = table(VALUE)?;
        let (id, desc) = (values.column("VALUEID")?, values.column("VALUEDESC")?);
        for (line, row) in &values.rows {
            let code = cell(row, id);
            code_check(&values, *line, "VALUEID", code, "EV")?;
            self.values
                .entry(code.to_owned())
                .or_insert_with(|| Value {
                    code: code.to_owned(),
                    descriptions: Vec::new(),
                })
                .descriptions
                .push(text(cell(row, desc)));
        }

        let features = table(FEATURE)?;
        let (id, desc) = (
            features.column("FEATUREID")?,
            features.column("FEATUREDESC")?,
        );
        let group = features.optional("FEATUREGROUPID");
        for (line, row) in &features.rows {
            let code = cell(row, id);
            code_check(&features, *line, "FEATUREID", code, "EF")?;
            self.features
                .entry(code.to_owned())
                .or_insert_with(|| Feature {
                    code: code.to_owned(),
                    group: optional_cell(row, group),
                    descriptions: Vec::new(),
                })
                .descriptions
                .push(text(cell(row, desc)));
        }

        let classes = table(CLASS)?;
        let id = classes.column("ARTCLASSID")?;
        let desc = classes.column("ARTCLASSDESC")?;
        let group = classes.optional("ARTGROUPID");
        let version = classes.optional("ARTCLASSVERSION");
        for (line, row) in &classes.rows {
            let code = cell(row, id);
            code_check(&classes, *line, "ARTCLASSID", code, "EC")?;
            self.classes
                .entry(code.to_owned())
                .or_insert_with(|| EtimClass {
                    code: code.to_owned(),
                    group: optional_cell(row, group),
                    version: optional_cell(row, version),
                    descriptions: Vec::new(),
                    synonyms: Vec::new(),
                    features: Vec::new(),
                })
                .descriptions
                .push(text(cell(row, desc)));
        }

        let synonyms = table(SYNONYM)?;
        let (id, synonym) = (
            synonyms.column("ARTCLASSID")?,
            synonyms.column("CLASSSYNONYM")?,
        );
        for (line, row) in &synonyms.rows {
            let code = cell(row, id);
            let Some(class) = self.classes.get_mut(code) else {
                return Err(synonyms.bad(
                    *line,
                    "ARTCLASSID",
                    code,
                    "no such class in ETIMARTCLASS",
                ));
            };
            let value = cell(row, synonym);
            if !value.is_empty() {
                class.synonyms.push(text(value));
            }
        }

        let map = table(CLASS_FEATURE)?;
        let number = map.column("ARTCLASSFEATURENR")?;
        let class_id = map.column("ARTCLASSID")?;
        let feature_id = map.column("FEATUREID")?;
        let kind = map.column("FEATURETYPE")?;
        let unit = map.column("UNITOFMEASID")?;
        let sort = map.optional("SORTNR");
        // ARTCLASSFEATURENR -> (class, index in its feature list)
        let mut by_number: HashMap<String, (String, usize)> = HashMap::new();
        for (line, row) in &map.rows {
            let code = cell(row, class_id);
            let feature = cell(row, feature_id);
            if !self.features.contains_key(feature) {
                return Err(map.bad(
                    *line,
                    "FEATUREID",
                    feature,
                    "no such feature in ETIMFEATURE",
                ));
            }
            let raw_kind = cell(row, kind);
            let kind = FeatureType::parse(raw_kind)
                .ok_or_else(|| map.bad(*line, "FEATURETYPE", raw_kind, "expected A, N, R or L"))?;
            let unit = optional_cell(row, Some(unit));
            if let Some(u) = &unit
                && !self.units.contains_key(u)
            {
                return Err(map.bad(*line, "UNITOFMEASID", u, "no such unit in ETIMUNIT"));
            }
            let sort = match optional_cell(row, sort) {
                Some(s) => s
                    .parse::<u32>()
                    .map_err(|_| map.bad(*line, "SORTNR", &s, "not a whole number"))?,
                None => 0,
            };
            let Some(class) = self.classes.get_mut(code) else {
                return Err(map.bad(*line, "ARTCLASSID", code, "no such class in ETIMARTCLASS"));
            };
            let index = match class.features.iter().position(|f| f.feature == feature) {
                Some(index) => index,
                None => {
                    class.features.push(ClassFeature {
                        feature: feature.to_owned(),
                        kind,
                        unit,
                        sort,
                        values: Vec::new(),
                    });
                    class.features.len() - 1
                }
            };
            by_number.insert(cell(row, number).to_owned(), (code.to_owned(), index));
        }

        // Optional: older exports and excerpts may leave it out.
        if let Some((path, bytes)) = source.read(CLASS_FEATURE_VALUE)? {
            let values_map = parse(path, &bytes)?;
            let number = values_map.column("ARTCLASSFEATURENR")?;
            let value = values_map.column("VALUEID")?;
            for (line, row) in &values_map.rows {
                let nr = cell(row, number);
                let Some((class, index)) = by_number.get(nr) else {
                    return Err(values_map.bad(
                        *line,
                        "ARTCLASSFEATURENR",
                        nr,
                        "no such class feature in ETIMARTCLASSFEATUREMAP",
                    ));
                };
                let code = cell(row, value);
                if !self.values.contains_key(code) {
                    return Err(values_map.bad(
                        *line,
                        "VALUEID",
                        code,
                        "no such value in ETIMVALUE",
                    ));
                }
                let values = &mut self.classes.get_mut(class).expect("indexed above").features
                    [*index]
                    .values;
                if !values.iter().any(|v| v == code) {
                    values.push(code.to_owned());
                }
            }
        }
        Ok(())
    }

    fn finish(self) -> EtimModel {
        let mut classes: Vec<EtimClass> = self.classes.into_values().collect();
        for class in &mut classes {
            class.features.sort_by_key(|f| f.sort);
        }
        let class_index = classes
            .iter()
            .enumerate()
            .map(|(i, c)| (c.code.clone(), i))
            .collect();
        let terms = text::terms(&classes);
        let term_index = text::index(&terms);
        let mut feature_classes: HashMap<String, Vec<usize>> = HashMap::new();
        for (position, class) in classes.iter().enumerate() {
            for feature in &class.features {
                feature_classes
                    .entry(feature.feature.clone())
                    .or_default()
                    .push(position);
            }
        }
        let headers = crate::features::header_index(self.features.values());
        EtimModel {
            classes,
            class_index,
            features: self.features,
            units: self.units,
            values: self.values,
            languages: self.languages,
            terms,
            term_index,
            headers,
            feature_classes,
        }
    }
}

/// Decodes UTF-16 (LE with or without BOM, BE with BOM) and reads the
/// `;`-separated table, keeping line numbers for messages.
fn parse(path: PathBuf, bytes: &[u8]) -> Result<Table, ClassifyError> {
    let content = decode_utf16(&path, bytes)?;
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b';')
        .has_headers(true)
        .flexible(true)
        .from_reader(content.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .map_err(|source| ClassifyError::Csv {
            path: path.clone(),
            line: 1,
            source,
        })?
        .iter()
        .map(|h| h.trim().trim_start_matches('\u{feff}').to_owned())
        .collect();
    let mut rows = Vec::new();
    let mut record = csv::StringRecord::new();
    loop {
        let line = reader.position().line();
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(source) => {
                let line = source
                    .position()
                    .map(|p| line_at(&content, p.byte()))
                    .unwrap_or(line);
                return Err(ClassifyError::Csv { path, line, source });
            }
        }
        // Counted from the byte offset, which is exact after CRLF and quoted
        // line breaks alike.
        let line = record
            .position()
            .map(|p| line_at(&content, p.byte()))
            .unwrap_or(line);
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        if record.len() != header.len() {
            return Err(ClassifyError::FieldCount {
                path,
                line,
                found: record.len(),
                expected: header.len(),
            });
        }
        rows.push((line, record.iter().map(str::to_owned).collect()));
    }
    Ok(Table { path, header, rows })
}

/// The 1-based line of the record starting at a byte offset. The reader
/// leaves the previous record's line break before the offset or after it;
/// skipping line breaks first counts both the same.
fn line_at(content: &str, byte: u64) -> u64 {
    let bytes = content.as_bytes();
    let mut end = (byte as usize).min(bytes.len());
    while end < bytes.len() && matches!(bytes[end], b'\r' | b'\n') {
        end += 1;
    }
    bytes[..end].iter().filter(|b| **b == b'\n').count() as u64 + 1
}

fn decode_utf16(path: &Path, bytes: &[u8]) -> Result<String, ClassifyError> {
    let encoding_error = |line: u64, detail: &str| ClassifyError::Encoding {
        path: path.to_path_buf(),
        line,
        detail: detail.to_owned(),
    };
    let (body, little_endian) = match bytes {
        [0xFF, 0xFE, rest @ ..] => (rest, true),
        [0xFE, 0xFF, rest @ ..] => (rest, false),
        _ => {
            // Without BOM (ETIM 10.0's export has none): UTF-16 LE text in
            // ASCII-heavy tables has a zero in every second byte.
            let sample = &bytes[..bytes.len().min(512)];
            let zeros_high = sample
                .iter()
                .skip(1)
                .step_by(2)
                .filter(|b| **b == 0)
                .count();
            if sample.len() >= 2 && zeros_high * 2 >= sample.len() / 2 {
                (bytes, true)
            } else if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
                return Err(encoding_error(
                    1,
                    "the file is UTF-8 (it starts with a UTF-8 BOM), not UTF-16",
                ));
            } else {
                return Err(encoding_error(
                    1,
                    "the file is not UTF-16 (no BOM and no UTF-16 byte pattern)",
                ));
            }
        }
    };
    let mut line = 1u64;
    if body.len() % 2 == 1 {
        let lines = body
            .chunks(2)
            .filter(|c| c == &[b'\n', 0] || c == &[0, b'\n'])
            .count();
        return Err(encoding_error(
            lines as u64 + 1,
            "odd number of bytes: the file is truncated or not UTF-16",
        ));
    }
    let units = body.chunks_exact(2).map(|pair| {
        if little_endian {
            u16::from_le_bytes([pair[0], pair[1]])
        } else {
            u16::from_be_bytes([pair[0], pair[1]])
        }
    });
    let mut text = String::with_capacity(body.len() / 2);
    for decoded in char::decode_utf16(units) {
        match decoded {
            Ok(c) => {
                if c == '\n' {
                    line += 1;
                }
                if c == '\0' {
                    return Err(encoding_error(
                        line,
                        "NUL character: the file is probably not UTF-16 LE (try UTF-16 BE or UTF-8)",
                    ));
                }
                text.push(c);
            }
            Err(_) => {
                return Err(encoding_error(
                    line,
                    "invalid UTF-16 (an unpaired surrogate)",
                ));
            }
        }
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages_from_folder_names() {
        assert_eq!(language_of(Path::new("x/EN")), "en");
        assert_eq!(language_of(Path::new("x/de")), "de");
        assert_eq!(
            language_of(Path::new("ETIM-10.0-ALL-SECTORS-CSV-METRIC-EI-2024-12-05")),
            "en"
        );
        assert_eq!(language_of(Path::new("export")), "und");
    }

    #[test]
    fn utf16_without_bom_and_big_endian() {
        let text = "A;B\r\n1;ä\r\n";
        let le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        assert_eq!(decode_utf16(Path::new("t"), &le).unwrap(), text);
        let mut be = vec![0xFE, 0xFF];
        be.extend(text.encode_utf16().flat_map(u16::to_be_bytes));
        assert_eq!(decode_utf16(Path::new("t"), &be).unwrap(), text);
    }
}
