//! The demo delivery against an independent re-count: CSV files re-read with
//! the `csv` crate, workbooks with `calamine`, both classified here by the
//! rules of `cradle_core::accounting` without any code of the generator.

use calamine::{Data, Reader, Xlsx, open_workbook};
use cradle_core::accounting::{MAX_CELL_BYTES, RejectReason};
use cradle_core::fields::CanonicalField;
use cradle_core::manifest::{Manifest, ManifestSheet};
use cradle_demo::{DemoError, DemoOptions, generate};
use std::collections::{BTreeMap, HashSet};
use std::path::Path;

/// One cell as re-read: its text and whether it was a text cell.
#[derive(Clone)]
struct Cell {
    text: String,
    is_text: bool,
}

impl Cell {
    fn filled(&self) -> bool {
        !self.text.trim().is_empty()
    }
}

fn trimmed(mut row: Vec<Cell>) -> Vec<Cell> {
    while row.last().is_some_and(|c| !c.filled()) {
        row.pop();
    }
    row
}

/// Classifies a grid by the accounting rules and returns what the manifest
/// should say about it.
fn recount(name: Option<String>, grid: &[Vec<Cell>]) -> ManifestSheet {
    let mut sheet = ManifestSheet {
        name,
        ..ManifestSheet::default()
    };
    let reject = |sheet: &mut ManifestSheet, reason: RejectReason| {
        sheet.rows += 1;
        sheet.rejected_rows += 1;
        *sheet.rejected_by_reason.entry(reason).or_default() += 1;
    };
    let is_key = |c: &Cell| {
        c.is_text && CanonicalField::from_header(&c.text) == Some(CanonicalField::ArticleNo)
    };
    let header = grid
        .iter()
        .take(60)
        .position(|row| row.iter().filter(|c| c.filled()).count() >= 2 && row.iter().any(is_key));
    let Some(header) = header else {
        for row in grid {
            if row.iter().any(Cell::filled) {
                reject(&mut sheet, RejectReason::NoKeyColumn);
            }
        }
        return sheet;
    };
    let header_cells = trimmed(grid[header].clone());
    let key = header_cells.iter().position(is_key).unwrap();
    let mut width = header_cells.len();
    sheet.header_row = Some(header as u64);
    sheet.header_rows = 1;
    sheet.key_header = Some(header_cells[key].text.clone());
    if header > 0 {
        let above = trimmed(grid[header - 1].clone());
        let filled: Vec<&Cell> = above.iter().filter(|c| c.filled()).collect();
        if filled.len() >= 2 && filled.iter().all(|c| c.is_text) && above.len() <= width {
            sheet.header_rows = 2;
            width = width.max(above.len());
        }
    }
    let mut keys = HashSet::new();
    for row in &grid[header + 1..] {
        let row = trimmed(row.clone());
        let filled = row.iter().filter(|c| c.filled()).count() as u64;
        if filled == 0 {
            continue;
        }
        if row.iter().any(|c| c.text.len() > MAX_CELL_BYTES) {
            reject(&mut sheet, RejectReason::CellTooLarge);
        } else if row.iter().skip(width).any(Cell::filled) {
            reject(&mut sheet, RejectReason::TooManyFields);
        } else if filled == 1 && width >= 2 {
            reject(&mut sheet, RejectReason::NotArticleRow);
        } else if !row.get(key).is_some_and(Cell::filled) {
            reject(&mut sheet, RejectReason::NoKey);
        } else {
            sheet.rows += 1;
            sheet.loaded_rows += 1;
            sheet.data_points += filled - 1;
            keys.insert(row[key].text.trim().to_owned());
        }
    }
    sheet.products = keys.len() as u64;
    sheet
}

fn csv_grid(bytes: &[u8], encoding: &str, delimiter: &str) -> Vec<Vec<Cell>> {
    let text = match encoding {
        "utf-8" => {
            assert!(!bytes.starts_with(&[0xEF, 0xBB, 0xBF]));
            std::str::from_utf8(bytes).expect("valid UTF-8").to_owned()
        }
        "utf-8-bom" => std::str::from_utf8(bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).expect("a BOM"))
            .expect("valid UTF-8")
            .to_owned(),
        "windows-1252" => {
            assert!(
                std::str::from_utf8(bytes).is_err(),
                "umlauts make it invalid UTF-8"
            );
            encoding_rs::WINDOWS_1252
                .decode_without_bom_handling(bytes)
                .0
                .into_owned()
        }
        other => panic!("unexpected encoding {other}"),
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter.as_bytes()[0])
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    reader
        .records()
        .map(|r| {
            r.expect("parses")
                .iter()
                .map(|f| Cell {
                    text: f.to_owned(),
                    is_text: true,
                })
                .collect()
        })
        .collect()
}

fn xlsx_grids(path: &Path) -> Vec<(String, Vec<Vec<Cell>>)> {
    let mut workbook: Xlsx<_> = open_workbook(path).expect("opens");
    let names = workbook.sheet_names().to_vec();
    names
        .into_iter()
        .map(|name| {
            let range = workbook.worksheet_range(&name).expect("sheet");
            let (first_row, first_col) = range.start().unwrap_or((0, 0));
            let mut grid = vec![Vec::new(); first_row as usize];
            for row in range.rows() {
                let mut cells = vec![
                    Cell {
                        text: String::new(),
                        is_text: false
                    };
                    first_col as usize
                ];
                cells.extend(row.iter().map(|d| match d {
                    Data::Empty => Cell {
                        text: String::new(),
                        is_text: false,
                    },
                    Data::String(s) => Cell {
                        text: s.clone(),
                        is_text: true,
                    },
                    Data::DateTime(dt) => {
                        assert!(!dt.is_duration());
                        Cell {
                            text: format!("date {}", dt.as_f64()),
                            is_text: false,
                        }
                    }
                    other => Cell {
                        text: other.to_string(),
                        is_text: false,
                    },
                }));
                grid.push(cells);
            }
            (name, grid)
        })
        .collect()
}

fn check_delivery(dir: &Path, manifest: &Manifest) {
    assert_eq!(manifest.files.len(), 27 + cradle_demo::MEDIA_FILES);
    assert_eq!(
        manifest.files.iter().filter(|f| f.format == "xlsx").count(),
        12
    );
    assert_eq!(
        manifest.files.iter().filter(|f| f.format == "csv").count(),
        15
    );
    let mut total = ManifestSheet::default();
    let mut bytes = 0;
    for file in &manifest.files {
        let raw = std::fs::read(dir.join(&file.path)).unwrap();
        assert_eq!(raw.len() as u64, file.bytes, "{}", file.path);
        bytes += file.bytes;
        if file.content == "media" && file.sheets.is_empty() {
            // A picture or PDF: no rows to recount.
            assert!(file.path.starts_with("media/"), "{}", file.path);
            let magic: &[u8] = if file.format == "pdf" {
                b"%PDF-"
            } else {
                b"\x89PNG"
            };
            assert!(raw.starts_with(magic), "{}", file.path);
            continue;
        }
        let recounted: Vec<ManifestSheet> = if file.format == "csv" {
            assert_eq!(file.sheets.len(), 1);
            let grid = csv_grid(&raw, &file.encoding, file.delimiter.as_deref().unwrap());
            vec![recount(None, &grid)]
        } else {
            assert_eq!(file.encoding, "binary");
            xlsx_grids(&dir.join(&file.path))
                .into_iter()
                .map(|(name, grid)| recount(Some(name), &grid))
                .collect()
        };
        assert_eq!(recounted, file.sheets, "{}", file.path);
        for sheet in &file.sheets {
            assert_eq!(sheet.rows, sheet.loaded_rows + sheet.rejected_rows);
            total.rows += sheet.rows;
            total.loaded_rows += sheet.loaded_rows;
            total.rejected_rows += sheet.rejected_rows;
            total.data_points += sheet.data_points;
            for (reason, count) in &sheet.rejected_by_reason {
                *total.rejected_by_reason.entry(*reason).or_default() += count;
            }
        }
    }
    assert_eq!(manifest.rows, total.rows);
    assert_eq!(manifest.loaded_rows, total.loaded_rows);
    assert_eq!(manifest.rejected_rows, total.rejected_rows);
    assert_eq!(manifest.data_points, total.data_points);
    assert_eq!(manifest.rejected_by_reason, total.rejected_by_reason);
    assert_eq!(manifest.total_bytes, bytes);
    let stored: Manifest =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(&stored, manifest);
}

fn contents(dir: &Path, manifest: &Manifest) -> BTreeMap<String, Vec<u8>> {
    manifest
        .files
        .iter()
        .map(|f| (f.path.clone(), std::fs::read(dir.join(&f.path)).unwrap()))
        .collect()
}

#[test]
fn small_delivery_matches_an_independent_recount() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("delivery");
    let options = DemoOptions {
        scale: 0.01,
        seed: 42,
    };
    let manifest = generate(&dir, &options).unwrap();
    check_delivery(&dir, &manifest);

    assert_eq!(manifest.products, 1050);
    assert_eq!(manifest.generator, "cradle-demo 1");
    assert!(manifest.conflicting_products > 0);
    for reason in RejectReason::ALL {
        let count = manifest
            .rejected_by_reason
            .get(&reason)
            .copied()
            .unwrap_or(0);
        if reason == RejectReason::Undecodable {
            assert_eq!(count, 0);
        } else {
            assert!(count > 0, "{reason} missing");
        }
    }
    let ratio = manifest.data_points as f64 / manifest.products as f64;
    assert!((60.0..95.0).contains(&ratio), "{ratio}");
    let sheets = manifest.files.iter().flat_map(|f| &f.sheets);
    assert!(sheets.clone().any(|s| s.header_rows == 2));
    assert!(sheets.clone().any(|s| s.header_row.is_none()));
    for encoding in ["utf-8", "utf-8-bom", "windows-1252"] {
        assert!(manifest.files.iter().any(|f| f.encoding == encoding));
    }
    for delimiter in [";", ",", "\t"] {
        assert!(
            manifest
                .files
                .iter()
                .any(|f| f.delimiter.as_deref() == Some(delimiter))
        );
    }

    // Same seed: same bytes, also when overwriting an earlier run.
    let first = contents(&dir, &manifest);
    let again = generate(&dir, &options).unwrap();
    assert_eq!(again, manifest);
    assert_eq!(contents(&dir, &again), first);
    let other_dir = temp.path().join("other");
    let other = generate(&other_dir, &options).unwrap();
    assert_eq!(contents(&other_dir, &other), first);

    // Another seed: other bytes.
    let seed_dir = temp.path().join("seed");
    let seeded = generate(
        &seed_dir,
        &DemoOptions {
            scale: 0.01,
            seed: 7,
        },
    )
    .unwrap();
    check_delivery(&seed_dir, &seeded);
    assert_ne!(contents(&seed_dir, &seeded), first);
}

#[test]
fn tiny_scale_still_has_every_kind_of_mess() {
    let temp = tempfile::tempdir().unwrap();
    let manifest = generate(
        temp.path(),
        &DemoOptions {
            scale: 0.0001,
            seed: 3,
        },
    )
    .unwrap();
    check_delivery(temp.path(), &manifest);
    assert_eq!(manifest.products, 20);
    assert!(manifest.conflicting_products > 0);
    assert_eq!(manifest.rejected_by_reason.len(), 5);
}

#[test]
fn refuses_a_foreign_non_empty_folder() {
    let temp = tempfile::tempdir().unwrap();
    std::fs::write(temp.path().join("notes.txt"), "mine").unwrap();
    let error = generate(temp.path(), &DemoOptions::default()).unwrap_err();
    assert!(matches!(error, DemoError::NotEmpty { .. }));
    assert!(
        error
            .to_string()
            .contains(&temp.path().display().to_string())
    );
    assert!(
        generate(
            temp.path(),
            &DemoOptions {
                scale: -1.0,
                seed: 1
            }
        )
        .is_err()
    );
}

/// The reference size resembles the reference delivery, and an independent
/// recount of every file agrees with the manifest.
#[test]
fn full_scale_resembles_the_reference_delivery() {
    let temp = tempfile::tempdir().unwrap();
    let manifest = generate(temp.path(), &DemoOptions::default()).unwrap();
    let ratio = manifest.data_points as f64 / manifest.products as f64;
    let megabytes = manifest.total_bytes as f64 / 1e6;
    assert_eq!(manifest.products, 105_000);
    assert_eq!(manifest.files.len(), 27 + cradle_demo::MEDIA_FILES);
    assert!(
        (70.0..=80.0).contains(&ratio),
        "{ratio:.1} data points per product"
    );
    assert!((50.0..=62.0).contains(&megabytes), "{megabytes:.1} MB");
    check_delivery(temp.path(), &manifest);
}

#[test]
fn the_delivery_names_two_products_with_markup() {
    let dir = tempfile::tempdir().expect("tempdir");
    cradle_demo::generate(
        dir.path(),
        &cradle_demo::DemoOptions {
            scale: 0.002,
            seed: 7,
        },
    )
    .expect("generate");
    let mut found = [false; 2];
    let mut folders = vec![dir.path().to_path_buf()];
    let mut files = Vec::new();
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(folder).expect("read") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                folders.push(path);
            } else {
                files.push(path);
            }
        }
    }
    for path in files {
        let text = match path.extension().and_then(|e| e.to_str()) {
            Some("csv") => {
                String::from_utf8_lossy(&std::fs::read(&path).expect("read")).into_owned()
            }
            Some("xlsx") => xlsx_grids(&path)
                .iter()
                .flat_map(|(_, grid)| grid.iter().flatten().map(|cell| cell.text.clone()))
                .collect::<Vec<_>>()
                .join("\n"),
            _ => continue,
        };
        // The second name's leading quote is doubled in CSV.
        for (i, name) in cradle_demo::HOSTILE_NAMES.iter().enumerate() {
            found[i] |= text.contains(name.trim_start_matches('"'));
        }
    }
    assert_eq!(found, [true, true], "both names are in the delivery");
}
