//! Builds a small lakehouse (the real `products` and `attributes` schemas,
//! written with cradle-lake), indexes it, and checks what searches find:
//! one `check(query, expected_first_article)` per behaviour, then filters,
//! facets, highlights, provenance and the read-only open.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime};

use arrow_array::RecordBatch;
use cradle_index::{BuildOptions, Filter, SearchIndex, SearchRequest, SearchResponse, build};
use cradle_lake::{Table, WriteOptions};
use cradle_test_support::lakehouse::{self, AttributeRow, ProductRow};

/// One product: article number and (column, value) pairs of `products`.
struct Product {
    article_no: &'static str,
    columns: &'static [(&'static str, &'static str)],
}

/// One attribute row: article, attribute, original, number, bool, unit.
type Attribute = (
    &'static str,
    &'static str,
    &'static str,
    Option<f64>,
    Option<bool>,
    Option<&'static str>,
);

const PRODUCTS: &[Product] = &[
    Product {
        article_no: "LW-100234",
        columns: &[
            ("gtin", "4012345000014"),
            ("manufacturer_no", "RD-12-830"),
            ("name_de", "Einbauleuchte LED 12 W"),
            ("name_en", "Recessed luminaire LED 12 W"),
            (
                "description_de",
                "Runde Einbauleuchte für Decken mit hoher Effizienz",
            ),
            ("description_en", "Round recessed luminaire for ceilings"),
            ("family", "Einbauleuchten"),
            ("series", "Ronda"),
            ("brand", "Lumatix"),
            ("etim_class", "EC001744"),
        ],
    },
    Product {
        article_no: "LW-100299",
        columns: &[
            ("gtin", "4012345000021"),
            ("name_de", "Einbauleuchte LED 24 W"),
            ("name_en", "Recessed luminaire LED 24 W"),
            ("family", "Einbauleuchten"),
            ("series", "Ronda"),
            ("brand", "Lumatix"),
            ("etim_class", "EC001744"),
        ],
    },
    Product {
        article_no: "LW-1002",
        columns: &[
            ("name_de", "Montagerahmen"),
            ("name_en", "Mounting frame"),
            ("family", "Zubehör"),
            ("brand", "Lumatix"),
        ],
    },
    Product {
        article_no: "SL-200100",
        columns: &[
            ("gtin", "4012345000038"),
            ("name_de", "Straßenleuchte Avenue"),
            ("name_en", "Street light Avenue"),
            ("description_de", "Mastleuchte für Straßen und Wege"),
            ("family", "Außenleuchten"),
            ("brand", "Nordlicht"),
            ("etim_class", "EC002892"),
        ],
    },
    Product {
        article_no: "PL-300",
        columns: &[
            ("name_de", "Pendelleuchte Linea"),
            ("name_en", "Pendant luminaire Linea"),
            ("family", "Pendelleuchten"),
            ("brand", "Lumatix"),
            ("etim_class", "EC001743"),
        ],
    },
    Product {
        article_no: "DL-400",
        columns: &[
            ("name_de", "Downlight Spot"),
            ("name_en", "Downlight spot"),
            ("family", "Einbauleuchten"),
            ("brand", "Nordlicht"),
            ("etim_class", "EC001744"),
        ],
    },
    Product {
        article_no: "DR-350",
        columns: &[
            ("name_de", "LED-Treiber 350 mA"),
            ("name_en", "LED driver 350 mA"),
            ("description_en", "Constant current driver for LED modules"),
            ("family", "Zubehör"),
            ("brand", "Voltix"),
            ("etim_class", "EC002710"),
        ],
    },
    Product {
        article_no: "LF-500",
        columns: &[
            ("name_de", "Lüfter Kompakt"),
            ("name_en", "Compact fan"),
            ("family", "Zubehör"),
            ("brand", "Voltix"),
        ],
    },
];

const ATTRIBUTES: &[Attribute] = &[
    ("LW-100234", "Leistung", "12,5", Some(12.5), None, Some("W")),
    (
        "LW-100234",
        "Lichtstrom",
        "1200",
        Some(1200.0),
        None,
        Some("lm"),
    ),
    (
        "LW-100234",
        "Farbtemperatur",
        "3000",
        Some(3000.0),
        None,
        Some("K"),
    ),
    ("LW-100234", "Dimmbar", "ja", None, Some(true), None),
    ("LW-100234", "Farbe", "Weiß", None, None, None),
    ("LW-100234", "Schutzart", "IP44", None, None, None),
    ("LW-100299", "Leistung", "24", Some(24.0), None, Some("W")),
    (
        "LW-100299",
        "Farbtemperatur",
        "4000",
        Some(4000.0),
        None,
        Some("K"),
    ),
    ("LW-100299", "Dimmbar", "nein", None, Some(false), None),
    ("LW-100299", "Farbe", "Schwarz", None, None, None),
    ("SL-200100", "Leistung", "60", Some(60.0), None, Some("W")),
    (
        "SL-200100",
        "Lichtstrom",
        "7200",
        Some(7200.0),
        None,
        Some("lm"),
    ),
    ("PL-300", "Leistung", "18", Some(18.0), None, Some("W")),
    ("PL-300", "Dimmbar", "ja", None, Some(true), None),
    ("PL-300", "Leistung", "18", Some(18.0), None, Some("W")),
    ("DL-400", "Leistung", "9", Some(9.0), None, Some("W")),
    ("DL-400", "Dimmbar", "1", Some(1.0), Some(true), None),
    (
        "DR-350",
        "Ausgangsstrom",
        "350",
        Some(350.0),
        None,
        Some("mA"),
    ),
    ("XX-999", "Leistung", "5", Some(5.0), None, Some("W")),
];

fn products_batch(products: &[(String, Vec<(String, String)>)]) -> RecordBatch {
    let rows: Vec<ProductRow> = products
        .iter()
        .map(|(article, columns)| {
            let mut row = ProductRow {
                article_no: article.clone(),
                fields: columns.clone(),
            };
            row.fields
                .push(("content_hash".into(), format!("hash-{article}")));
            row.fields.push(("price_eur".into(), "19.9".into()));
            row
        })
        .collect();
    lakehouse::products_batch(&rows)
}

fn attributes_batch(rows: &[Attribute]) -> RecordBatch {
    let rows: Vec<AttributeRow> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| AttributeRow {
            article_no: r.0.into(),
            attribute: r.1.into(),
            header: match r.5 {
                Some(unit) => format!("{} [{unit}]", r.1),
                None => r.1.to_owned(),
            },
            original: r.2.into(),
            number: r.3,
            boolean: r.4,
            unit: r.5.map(str::to_owned),
            file: "data.csv".into(),
            row: i as i64,
            column: "A".into(),
            ..AttributeRow::default()
        })
        .collect();
    lakehouse::attributes_batch(&rows)
}

/// A row of a canonical field and a "no value" row: neither may reach the
/// attribute text.
fn skipped_rows_batch() -> RecordBatch {
    let mut field = AttributeRow::text(
        "LW-100234",
        "Bezeichnung",
        "Bezeichnung",
        "Zebrastreifen",
        "data.csv",
        100,
        "B",
    );
    field.field = Some("name_de".into());
    let mut no_value = AttributeRow::text(
        "LW-100234",
        "Gewicht",
        "Gewicht [kg]",
        "Quokka",
        "data.csv",
        101,
        "C",
    );
    no_value.no_value = true;
    lakehouse::attributes_batch(&[field, no_value])
}

fn write_table(path: &Path, batches: &[RecordBatch]) -> u64 {
    let table = Table::at(path);
    let mut writer = table
        .writer(batches[0].schema(), WriteOptions::overwrite())
        .expect("writer");
    for batch in batches {
        writer.write(batch).expect("write");
    }
    writer.finish().expect("finish").commit().expect("commit")
}

fn fixture_products() -> Vec<(String, Vec<(String, String)>)> {
    PRODUCTS
        .iter()
        .map(|p| {
            (
                p.article_no.to_owned(),
                p.columns
                    .iter()
                    .map(|(c, v)| ((*c).to_owned(), (*v).to_owned()))
                    .collect(),
            )
        })
        .collect()
}

/// Writes the fixture lakehouse into `dir`.
fn write_lakehouse(dir: &Path) {
    write_table(
        &dir.join("products"),
        &[products_batch(&fixture_products())],
    );
    write_table(
        &dir.join("attributes"),
        &[attributes_batch(ATTRIBUTES), skipped_rows_batch()],
    );
}

struct Fixture {
    _dir: tempfile::TempDir,
    index_dir: PathBuf,
    index: SearchIndex,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().expect("tempdir");
        let lakehouse = dir.path().join("lakehouse");
        write_lakehouse(&lakehouse);
        let index_dir = dir.path().join("index");
        let report = build(&lakehouse, &index_dir, &BuildOptions::default()).expect("build");
        assert_eq!(report.documents, PRODUCTS.len() as u64);
        assert_eq!(report.orphan_attribute_rows, 1);
        let index = SearchIndex::open(&index_dir).expect("open");
        Fixture {
            _dir: dir,
            index_dir,
            index,
        }
    }
}

thread_local! {
    // One fixture per test thread, dropped (temporary directory deleted)
    // when the test ends; a `static` would never be dropped.
    static FIXTURE: Fixture = Fixture::new();
}

fn with_fixture<R>(f: impl FnOnce(&Fixture) -> R) -> R {
    FIXTURE.with(f)
}

fn search(request: &SearchRequest) -> SearchResponse {
    with_fixture(|fixture| fixture.index.search(request).expect("search"))
}

fn articles(response: &SearchResponse) -> Vec<&str> {
    response
        .hits
        .iter()
        .map(|h| h.article_no.as_str())
        .collect()
}

#[track_caller]
fn check(query: &str, expected_first: &str) {
    let response = search(&SearchRequest::new(query));
    assert_eq!(
        response.hits.first().map(|h| h.article_no.as_str()),
        Some(expected_first),
        "query {query:?} found {:?}",
        response
            .hits
            .iter()
            .map(|h| (&h.article_no, h.score, &h.matched))
            .collect::<Vec<_>>()
    );
}

#[test]
fn article_numbers() {
    check("LW-100234", "LW-100234");
    check("lw100234", "LW-100234");
    check("lw 100.234", "LW-100234");
    check("LW-10029", "LW-100299");
    // "LW-1002" is an article of its own and a prefix of two others: the
    // exact one comes first, the prefixes follow.
    // The two prefix matches score the same; their order among themselves
    // follows the index's segments, which a multi-threaded build varies.
    let response = search(&SearchRequest::new("LW-1002"));
    let found = articles(&response);
    assert_eq!(found[0], "LW-1002");
    let mut prefixes = found[1..].to_vec();
    prefixes.sort_unstable();
    assert_eq!(prefixes, ["LW-100234", "LW-100299"]);
    assert_eq!(
        response.hits[0].matched,
        ["article_no", "article_no prefix"]
    );
    assert_eq!(response.hits[1].matched, ["article_no prefix"]);
    check("4012345000038", "SL-200100");
    check("rd12830", "LW-100234");
    check("LW-100234 PL-300", "LW-100234");
    assert_eq!(search(&SearchRequest::new("LW-100234 PL-300")).total, 2);
}

#[test]
fn german_words() {
    check("Pendelleuchten", "PL-300");
    check("Straßenleuchte", "SL-200100");
    check("strassenleuchte", "SL-200100");
    check("Luefter", "LF-500");
    check("lüfter", "LF-500");
    // Stem: "Leuchten" and "Leuchte" are one word; both name compounds.
    let leuchten = search(&SearchRequest::new("Leuchten"));
    let leuchte = search(&SearchRequest::new("leuchte"));
    assert_eq!(articles(&leuchten), articles(&leuchte));
}

#[test]
fn compound_parts() {
    let response = search(&SearchRequest::new("leuchte"));
    let found = articles(&response);
    for article in ["LW-100234", "LW-100299", "SL-200100", "PL-300"] {
        assert!(found.contains(&article), "{article} not in {found:?}");
    }
    assert!(response.hits[0].matched.contains(&"name part".to_owned()));
    // DL-400 is no "Einbauleuchte" by name, but its family is.
    let response = search(&SearchRequest::new("einbau"));
    let mut found = articles(&response);
    found.sort_unstable();
    assert_eq!(found, ["DL-400", "LW-100234", "LW-100299"]);
    // A whole word ranks above a part of a compound: "Einbauleuchte" is a
    // word of LW-100234's name and a part of nothing else.
    check("Einbauleuchte", "LW-100234");
}

#[test]
fn english_words() {
    check("drivers", "DR-350");
    check("pendant", "PL-300");
    check("street lights", "SL-200100");
}

#[test]
fn typos() {
    check("Pendelleuchet", "PL-300");
    check("Downligt", "DL-400");
    let response = search(&SearchRequest::new("Downligt"));
    assert!(response.hits[0].matched.contains(&"typo".to_owned()));
    // Four letters are too few to guess from.
    assert_eq!(search(&SearchRequest::new("Spit")).total, 0);
}

#[test]
fn attribute_text() {
    check("IP44", "LW-100234");
    check("weiß", "LW-100234");
    // Rows of canonical fields and "no value" rows are not attribute text.
    assert_eq!(search(&SearchRequest::new("Zebrastreifen")).total, 0);
    assert_eq!(search(&SearchRequest::new("Quokka")).total, 0);
    // "Dimmbar: nein" does not make a product findable as dimmable.
    let dimmable = search(&SearchRequest::new("dimmbar"));
    assert!(!articles(&dimmable).contains(&"LW-100299"));
    assert!(articles(&dimmable).contains(&"PL-300"));
}

#[test]
fn every_word_must_match_unless_none_would() {
    // Both words: only the 24 W recessed light.
    let response = search(&SearchRequest::new("Einbauleuchte 24"));
    assert_eq!(articles(&response)[0], "LW-100299");
    assert_eq!(response.total, 1);
    // "Quokka" matches nothing: the other word still finds products.
    let response = search(&SearchRequest::new("Pendelleuchte Quokka"));
    assert_eq!(articles(&response)[0], "PL-300");
}

fn filtered(query: &str, filters: Vec<Filter>) -> Vec<String> {
    let mut request = SearchRequest::new(query);
    request.filters = filters;
    let mut found: Vec<String> = search(&request)
        .hits
        .into_iter()
        .map(|h| h.article_no)
        .collect();
    found.sort();
    found
}

#[test]
fn filters() {
    let equals = |field: &str, value: &str| Filter::Equals {
        field: field.into(),
        value: value.into(),
    };
    assert_eq!(
        filtered("", vec![equals("brand", "Nordlicht")]),
        ["DL-400", "SL-200100"]
    );
    assert_eq!(
        filtered("leuchte", vec![equals("brand", "Lumatix")]),
        ["LW-100234", "LW-100299", "PL-300"]
    );
    assert_eq!(
        filtered(
            "",
            vec![equals("family", "Zubehör"), equals("brand", "Voltix")]
        ),
        ["DR-350", "LF-500"]
    );
    assert_eq!(
        filtered("", vec![equals("etim_class", "EC002892")]),
        ["SL-200100"]
    );
    let range = |field: &str, min, max, unit: Option<&str>| Filter::Range {
        field: field.into(),
        min,
        max,
        unit: unit.map(str::to_owned),
    };
    assert_eq!(
        filtered(
            "",
            vec![range("Leistung", Some(10.0), Some(20.0), Some("W"))]
        ),
        ["LW-100234", "PL-300"]
    );
    assert_eq!(
        filtered("", vec![range("power", Some(20.0), None, Some("W"))]),
        ["LW-100299", "SL-200100"]
    );
    assert_eq!(
        filtered(
            "",
            vec![range("Lichtstrom", Some(1000.0), Some(2000.0), Some("lm"))]
        ),
        ["LW-100234"]
    );
    assert_eq!(
        filtered("", vec![range("farbtemperatur", None, Some(3500.0), None)]),
        ["LW-100234"]
    );
    // Units convert within a quantity: 0.01–0.02 kW is 10–20 W.
    assert_eq!(
        filtered(
            "",
            vec![range("Leistung", Some(0.01), Some(0.02), Some("kW"))]
        ),
        ["LW-100234", "PL-300"]
    );
    assert_eq!(
        filtered(
            "",
            vec![range("Lichtstrom", Some(1.0), Some(2.0), Some("klm"))]
        ),
        ["LW-100234"]
    );
    // A unit the attribute was never delivered in (nor converts from) could
    // only find nothing: the request is refused with the units it has.
    let mut request = SearchRequest::new("");
    request.filters = vec![range("Leistung", Some(0.0), None, Some("lm"))];
    match with_fixture(|fixture| fixture.index.search(&request)) {
        Err(cradle_index::IndexError::UnknownUnit {
            field,
            unit,
            delivered,
        }) => {
            assert_eq!((field.as_str(), unit.as_str()), ("Leistung", "lm"));
            assert_eq!(delivered, ["w"]);
        }
        other => panic!("expected UnknownUnit, got {other:?}"),
    }
    assert_eq!(
        filtered("", vec![range("price_eur", Some(10.0), Some(20.0), None)]).len(),
        PRODUCTS.len()
    );
    let dimmable = |value| Filter::Bool {
        field: "dimmable".into(),
        value,
    };
    assert_eq!(
        filtered("", vec![dimmable(true)]),
        ["DL-400", "LW-100234", "PL-300"]
    );
    assert_eq!(filtered("", vec![dimmable(false)]), ["LW-100299"]);
    assert_eq!(
        filtered("einbauleuchte", vec![dimmable(true)]),
        ["DL-400", "LW-100234"]
    );
    assert_eq!(filtered("", vec![equals("Farbe", "weiss")]), ["LW-100234"]);
    assert_eq!(filtered("", vec![equals("farbe", "WEISS")]), ["LW-100234"]);
    assert_eq!(filtered("", vec![equals("Leistung", "24")]), ["LW-100299"]);
    assert_eq!(
        filtered("", vec![equals("article_no", "lw100234")]),
        ["LW-100234"]
    );
}

#[test]
fn attributes_with_few_values_are_facets() {
    let mut request = SearchRequest::new("");
    request.facets = vec!["Leistung".into(), "dimmable".into(), "Farbe".into()];
    let response = search(&request);
    let values = |facet: &str| -> Vec<(&str, u64)> {
        response.facets[facet]
            .iter()
            .map(|(v, c)| (v.as_str(), *c))
            .collect()
    };
    // Numbers are counted under their unit's key (leistung_w), in any
    // of the attribute's names.
    assert_eq!(
        values("Leistung"),
        [("12.5", 1), ("18", 1), ("24", 1), ("60", 1), ("9", 1)]
    );
    assert_eq!(values("dimmable"), [("true", 3), ("false", 1)]);
    assert_eq!(values("Farbe"), [("Schwarz", 1), ("Weiß", 1)]);
    // Facets count the matches of the query and filters.
    request.filters = vec![Filter::Bool {
        field: "Dimmbar".into(),
        value: true,
    }];
    let filtered = search(&request);
    assert_eq!(
        filtered.facets["Leistung"],
        [
            ("12.5".to_owned(), 1),
            ("18".to_owned(), 1),
            ("9".to_owned(), 1)
        ]
    );
    let stats = with_fixture(|fixture| fixture.index.stats());
    assert_eq!(
        stats.facet_attributes,
        [
            "dimmbar",
            "farbe",
            "farbtemperatur_k",
            "leistung_w",
            "lichtstrom_lm"
        ]
    );
    // An attribute only one product has is no facet, and the error says
    // where the facets are listed.
    request.facets = vec!["Schutzart".into()];
    let error = with_fixture(|fixture| fixture.index.search(&request).unwrap_err());
    assert!(error.is_request_error());
    assert!(error.to_string().contains("facet_attributes"), "{error}");
}

#[test]
fn matching_articles_are_what_the_filters_let_through() {
    let equals = |field: &str, value: &str| Filter::Equals {
        field: field.into(),
        value: value.into(),
    };
    let matching = |filters: Vec<Filter>| {
        let mut found: Vec<String> = with_fixture(|fixture| {
            fixture
                .index
                .matching_articles(&filters)
                .expect("matching articles")
                .into_iter()
                .collect()
        });
        found.sort();
        found
    };
    assert_eq!(matching(vec![]).len(), PRODUCTS.len());
    for filters in [
        vec![equals("brand", "Nordlicht")],
        vec![equals("family", "Zubehör"), equals("brand", "Voltix")],
        vec![Filter::Range {
            field: "Leistung".into(),
            min: Some(10.0),
            max: Some(20.0),
            unit: Some("W".into()),
        }],
        vec![Filter::Bool {
            field: "dimmable".into(),
            value: true,
        }],
        vec![equals("brand", "nobody")],
    ] {
        let mut request = SearchRequest::new("");
        request.filters = filters.clone();
        request.limit = PRODUCTS.len();
        let mut listed: Vec<String> = search(&request)
            .hits
            .into_iter()
            .map(|h| h.article_no)
            .collect();
        listed.sort();
        assert_eq!(matching(filters.clone()), listed, "{filters:?}");
    }
    assert_eq!(
        matching(vec![equals("brand", "Nordlicht")]),
        ["DL-400", "SL-200100"]
    );
}

#[test]
fn request_errors() {
    let mut request = SearchRequest::new("leuchte");
    request.facets = vec!["colour".into()];
    let error = with_fixture(|f| f.index.search(&request).unwrap_err());
    assert!(error.is_request_error(), "{error}");
    let mut request = SearchRequest::new("leuchte");
    request.filters = vec![Filter::Range {
        field: "Leistung".into(),
        min: None,
        max: None,
        unit: None,
    }];
    assert!(with_fixture(|f| f
        .index
        .search(&request)
        .unwrap_err()
        .is_request_error()));
}

#[test]
fn facets_count_all_matches() {
    let mut request = SearchRequest::new("");
    request.facets = vec!["brand".into(), "family".into(), "etim_class".into()];
    request.limit = 1;
    let response = search(&request);
    assert_eq!(response.total, PRODUCTS.len());
    assert_eq!(response.hits.len(), 1);
    let expected: BTreeMap<String, Vec<(String, u64)>> = [
        (
            "brand",
            vec![("Lumatix", 4), ("Nordlicht", 2), ("Voltix", 2)],
        ),
        (
            "etim_class",
            vec![
                ("EC001744", 3),
                ("EC001743", 1),
                ("EC002710", 1),
                ("EC002892", 1),
            ],
        ),
        (
            "family",
            vec![
                ("Einbauleuchten", 3),
                ("Zubehör", 3),
                ("Außenleuchten", 1),
                ("Pendelleuchten", 1),
            ],
        ),
    ]
    .into_iter()
    .map(|(facet, values)| {
        (
            facet.to_owned(),
            values.into_iter().map(|(v, c)| (v.to_owned(), c)).collect(),
        )
    })
    .collect();
    assert_eq!(response.facets, expected);

    let mut request = SearchRequest::new("leuchte");
    request.facets = vec!["brand".into()];
    let response = search(&request);
    assert_eq!(
        response.facets["brand"],
        [("Lumatix".to_owned(), 3), ("Nordlicht".to_owned(), 2)]
    );
}

#[test]
fn paging() {
    let mut request = SearchRequest::new("");
    request.limit = 3;
    let first = articles(&search(&request))
        .into_iter()
        .map(str::to_owned)
        .collect::<Vec<_>>();
    request.offset = 3;
    let second = search(&request);
    assert_eq!(second.total, PRODUCTS.len());
    assert_eq!(second.hits.len(), 3);
    assert!(second.hits.iter().all(|h| !first.contains(&h.article_no)));
}

#[test]
fn hits_carry_highlights_and_reasons() {
    let mut request = SearchRequest::new("Einbauleuchte Decken");
    request.highlight = true;
    let response = search(&request);
    let hit = &response.hits[0];
    assert_eq!(hit.article_no, "LW-100234");
    assert_eq!(hit.name.as_deref(), Some("Einbauleuchte LED 12 W"));
    assert_eq!(hit.family.as_deref(), Some("Einbauleuchten"));
    assert_eq!(hit.brand.as_deref(), Some("Lumatix"));
    assert_eq!(hit.etim_class.as_deref(), Some("EC001744"));
    let highlights: BTreeMap<&str, &str> = hit
        .highlights
        .iter()
        .map(|(f, s)| (f.as_str(), s.as_str()))
        .collect();
    assert_eq!(highlights["name_de"], "<b>Einbauleuchte</b> LED 12 W");
    assert!(
        highlights["description_de"].contains("<b>Decken</b>"),
        "{highlights:?}"
    );
    assert!(
        hit.matched.contains(&"name_de".to_owned()),
        "{:?}",
        hit.matched
    );
    assert!(hit.matched.contains(&"description_de".to_owned()));

    let mut request = SearchRequest::new("drivers");
    request.highlight = true;
    let hit = &search(&request).hits[0];
    assert_eq!(
        hit.highlights[0],
        ("name_en".to_owned(), "LED <b>driver</b> 350 mA".to_owned())
    );
    // Without highlight requested, none are made.
    assert!(
        search(&SearchRequest::new("drivers")).hits[0]
            .highlights
            .is_empty()
    );
}

#[test]
fn stats_tell_provenance() {
    let stats = with_fixture(|f| f.index.stats());
    assert_eq!(stats.documents, PRODUCTS.len() as u64);
    assert!(stats.size_bytes > 0);
    assert_eq!(stats.built_from.delivery, None);
    assert_eq!(stats.built_from.tables["products"], 0);
    assert_eq!(stats.built_from.tables["attributes"], 0);
    assert!(stats.built_at.ends_with('Z'), "{}", stats.built_at);
    for key in [
        "leistung",
        "leistung_w",
        "lichtstrom_lm",
        "farbtemperatur_k",
        "dimmbar",
        "farbe",
    ] {
        assert!(
            stats.attribute_keys.contains(&key.to_owned()),
            "{key}: {:?}",
            stats.attribute_keys
        );
    }
}

/// Every entry of a directory with its size and modification time.
fn listing(dir: &Path) -> Vec<(String, u64, SystemTime)> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| {
            let e = e.expect("entry");
            let meta = e.metadata().expect("metadata");
            (
                e.file_name().to_string_lossy().into_owned(),
                meta.len(),
                meta.modified().expect("mtime"),
            )
        })
        .collect();
    entries.sort();
    entries
}

#[test]
fn opening_does_not_touch_the_directory() {
    let dir = &with_fixture(|f| f.index_dir.clone());
    let before = listing(dir);
    let dir_mtime = std::fs::metadata(dir)
        .expect("metadata")
        .modified()
        .expect("mtime");
    assert!(
        !before.iter().any(|(name, _, _)| name.contains("lock")),
        "{before:?}"
    );
    for _ in 0..2 {
        let index = SearchIndex::open(dir).expect("open");
        index
            .search(&SearchRequest::new("leuchte"))
            .expect("search");
    }
    assert_eq!(listing(dir), before);
    assert_eq!(
        std::fs::metadata(dir)
            .expect("metadata")
            .modified()
            .expect("mtime"),
        dir_mtime
    );
}

#[test]
fn open_refuses_what_is_not_an_index() {
    let dir = tempfile::tempdir().expect("tempdir");
    let error = SearchIndex::open(dir.path()).unwrap_err();
    assert!(error.to_string().contains("cradle index"), "{error}");
}

#[test]
fn build_reads_the_published_delivery_and_replaces_the_index() {
    let dir = tempfile::tempdir().expect("tempdir");
    let lakehouse = dir.path().join("lakehouse");
    write_lakehouse(&lakehouse);
    // A later products version that no delivery record names (an ingest
    // killed before publishing): the index must not see it.
    let mut products = fixture_products();
    products.push((
        "ZZ-1".into(),
        vec![("name_de".into(), "Geisterleuchte".into())],
    ));
    assert_eq!(
        write_table(&lakehouse.join("products"), &[products_batch(&products)]),
        1
    );
    let records = lakehouse.join("_cradle").join("deliveries");
    std::fs::create_dir_all(&records).expect("mkdir");
    std::fs::write(
        records.join("0000000001.json"),
        r#"{"delivery": 1, "tables": {"products": 0, "attributes": 0, "rejects": 0, "files": 0},
            "customer": "demo", "committed_at": "2026-01-01T00:00:00Z"}"#,
    )
    .expect("record");
    let index_dir = dir.path().join("index");
    build(&lakehouse, &index_dir, &BuildOptions::default()).expect("first build");
    let index = SearchIndex::open(&index_dir).expect("open");
    assert_eq!(index.stats().built_from.delivery, Some(1));
    assert_eq!(
        index
            .search(&SearchRequest::new("Geisterleuchte"))
            .expect("search")
            .total,
        0
    );

    // Publishing version 1 and rebuilding replaces the index in place.
    std::fs::write(
        records.join("0000000002.json"),
        r#"{"delivery": 2, "tables": {"products": 1, "attributes": 0}}"#,
    )
    .expect("record");
    build(&lakehouse, &index_dir, &BuildOptions::default()).expect("second build");
    // The first reader still works on its (now unlinked) files.
    assert_eq!(
        index
            .search(&SearchRequest::new("Pendelleuchte"))
            .expect("old")
            .total,
        1
    );
    let index = SearchIndex::open(&index_dir).expect("reopen");
    assert_eq!(index.stats().built_from.delivery, Some(2));
    assert_eq!(index.stats().documents, PRODUCTS.len() as u64 + 1);
    assert_eq!(
        index
            .search(&SearchRequest::new("Geisterleuchte"))
            .expect("search")
            .total,
        1
    );
    // No staging directories are left beside the index.
    let siblings: Vec<_> = std::fs::read_dir(dir.path())
        .expect("read_dir")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(siblings.len(), 2, "{siblings:?}");
}

#[test]
fn build_refuses_a_foreign_directory() {
    let dir = tempfile::tempdir().expect("tempdir");
    let lakehouse = dir.path().join("lakehouse");
    write_lakehouse(&lakehouse);
    let target = dir.path().join("precious");
    std::fs::create_dir(&target).expect("mkdir");
    std::fs::write(target.join("thesis.txt"), "do not delete").expect("write");
    let error = build(&lakehouse, &target, &BuildOptions::default()).unwrap_err();
    assert!(error.to_string().contains("not a cradle index"), "{error}");
    assert!(target.join("thesis.txt").exists());
}

/// 10k products with 20 attributes each: the build and, above all, the
/// open must be quick (the console opens the index at start).
#[test]
fn open_is_fast_on_10k_products() {
    const PRODUCTS_N: usize = 10_000;
    let dir = tempfile::tempdir().expect("tempdir");
    let lakehouse = dir.path().join("lakehouse");
    let families = [
        "Einbauleuchten",
        "Pendelleuchten",
        "Außenleuchten",
        "Zubehör",
    ];
    let products: Vec<(String, Vec<(String, String)>)> = (0..PRODUCTS_N)
        .map(|i| {
            let family = families[i % families.len()];
            (
                format!("BN-{i:06}"),
                vec![
                    (
                        "name_de".into(),
                        format!(
                            "{} Modell {i} LED {} W",
                            &family[..family.len() - 1],
                            i % 50
                        ),
                    ),
                    ("name_en".into(), format!("Luminaire model {i}")),
                    (
                        "description_de".into(),
                        format!("Leuchte der Serie S{} für Innen- und Außenbereiche", i % 37),
                    ),
                    ("family".into(), family.into()),
                    ("brand".into(), format!("Marke {}", i % 7)),
                    ("gtin".into(), format!("40{i:011}")),
                ],
            )
        })
        .collect();
    write_table(&lakehouse.join("products"), &[products_batch(&products)]);
    let mut rows: Vec<Attribute> = Vec::new();
    let names: Vec<&'static str> = (0..20)
        .map(|a| &*Box::leak(format!("Merkmal {a}").into_boxed_str()))
        .collect();
    let articles: Vec<&'static str> = products
        .iter()
        .map(|(a, _)| &*Box::leak(a.clone().into_boxed_str()))
        .collect();
    for (i, article) in articles.iter().enumerate() {
        for (a, name) in names.iter().enumerate() {
            let value = ((i * 31 + a * 17) % 1000) as f64;
            rows.push((article, name, "Wert", Some(value), None, Some("W")));
        }
    }
    write_table(&lakehouse.join("attributes"), &[attributes_batch(&rows)]);

    let index_dir = dir.path().join("index");
    let started = Instant::now();
    let report = build(&lakehouse, &index_dir, &BuildOptions::default()).expect("build");
    let build_time = started.elapsed();
    assert_eq!(report.documents, PRODUCTS_N as u64);
    assert_eq!(report.attribute_rows, (PRODUCTS_N * 20) as u64);

    let started = Instant::now();
    let index = SearchIndex::open(&index_dir).expect("open");
    let open_time = started.elapsed();
    let started = Instant::now();
    let mut request = SearchRequest::new("Außenleuchte Modell 4242");
    request.facets = vec!["family".into(), "brand".into()];
    request.highlight = true;
    request.filters = vec![Filter::Range {
        field: "Merkmal 3".into(),
        min: Some(0.0),
        max: Some(1000.0),
        unit: Some("W".into()),
    }];
    let response = index.search(&request).expect("search");
    let search_time = started.elapsed();
    assert_eq!(response.hits[0].article_no, "BN-004242");
    eprintln!(
        "10k products: build {build_time:?} (read {:?}, index {:?}), {} bytes, open {open_time:?}, search {search_time:?}",
        report.read_time, report.index_time, report.size_bytes
    );
    assert!(open_time.as_millis() < 500, "open took {open_time:?}");
}

/// A name typed out in full finds its product first, even when a sibling
/// whose description repeats the words scores more by BM25 (seen at scale
/// 1.0: the 40 W variant outranked the 5 W one its query named).
#[test]
fn exact_names_come_first() {
    let dir = tempfile::tempdir().expect("tempdir");
    let lakehouse = dir.path().join("lakehouse");
    let product = |article: &str, name: &str, description: &str| {
        (
            article.to_owned(),
            vec![
                ("name_de".to_owned(), name.to_owned()),
                ("description_de".to_owned(), description.to_owned()),
                ("family".to_owned(), "Wand- und Deckenleuchten".to_owned()),
            ],
        )
    };
    let products = [
        product(
            "CU-717-05",
            "Wand-/Deckenleuchte CUBO 717 5 W 6500 K weiß",
            "Kompakte Leuchte",
        ),
        product(
            "CU-717-40",
            "Wand-/Deckenleuchte CUBO 717 40 W 6500 K weiß",
            "Wand-/Deckenleuchte CUBO 717 in weiß, 6500 K, wie die 5 W Ausführung, Wand- oder Deckenmontage",
        ),
    ];
    write_table(&lakehouse.join("products"), &[products_batch(&products)]);
    write_table(
        &lakehouse.join("attributes"),
        &[attributes_batch(&[(
            "CU-717-40",
            "Farbe",
            "weiß",
            None,
            None,
            None,
        )])],
    );
    let index_dir = dir.path().join("index");
    build(&lakehouse, &index_dir, &BuildOptions::default()).expect("build");
    let index = SearchIndex::open(&index_dir).expect("open");

    // Without the exact name, the 40 W variant's description wins.
    let response = index
        .search(&SearchRequest::new(
            "CUBO 717 6500 K weiß 5 W Deckenleuchte",
        ))
        .expect("search");
    assert_eq!(articles(&response)[0], "CU-717-40", "{response:?}");
    // Case, punctuation and spacing do not matter to an exact name.
    for query in [
        "Wand-/Deckenleuchte CUBO 717 5 W 6500 K weiß",
        "wand deckenleuchte cubo 717 5 w 6500 k WEISS",
        "  Wand - / Deckenleuchte  CUBO 717 5 W 6500 K weiß ",
    ] {
        let response = index.search(&SearchRequest::new(query)).expect("search");
        assert_eq!(
            articles(&response)[0],
            "CU-717-05",
            "{query:?}: {response:?}"
        );
        assert!(
            response.hits[0].matched.contains(&"exact name".to_owned()),
            "{:?}",
            response.hits[0].matched
        );
    }
}
