//! Behaviour of cradle-lake tables: round trips, time travel, append,
//! restore, streaming file rolls, concurrent commits, crash safety,
//! schema rules and errors.

mod common;

use std::sync::{Arc, Barrier};
use std::time::Duration;

use arrow_array::{
    Array, DictionaryArray, Int32Array, Int64Array, RecordBatch, StringArray, types::Int32Type,
};
use arrow_schema::{DataType, Field, Schema};
use common::{batch, ids, scan_all, schema, write};
use cradle_lake::{LakeError, Table, WriteMode, WriteOptions};
use serde_json::Value;

fn opts(mode: WriteMode) -> WriteOptions {
    WriteOptions {
        mode,
        ..WriteOptions::default()
    }
}

#[test]
fn round_trip_time_travel_append_restore() {
    let dir = tempfile::tempdir().unwrap();
    let table = Table::at(dir.path().join("t"));
    assert_eq!(table.latest_version().unwrap(), None);
    assert!(matches!(
        table.snapshot(None),
        Err(LakeError::NoTable { .. })
    ));

    let v0 = write(
        &table,
        opts(WriteMode::Overwrite),
        &[batch(0, 1000), batch(1000, 1000), batch(2000, 1000)],
    );
    assert_eq!(v0, 0);
    let snap = table.snapshot(None).unwrap();
    assert_eq!(snap.version, 0);
    assert_eq!(snap.num_rows(), 3000);
    assert_eq!(snap.files.len(), 1);
    let got = scan_all(&snap);
    assert_eq!(got.len(), 1, "one file of 3000 rows is one scan batch");
    let (got, want) = (&got[0], batch(0, 3000));
    assert_eq!(got.num_rows(), 3000);
    for i in 0..9 {
        assert_eq!(
            got.column(i).as_ref(),
            want.column(i).as_ref(),
            "column {i}"
        );
        assert_eq!(got.schema().field(i), want.schema().field(i));
    }
    // LargeUtf8 is stored as Delta "string" and read back as Utf8.
    let note = got
        .column(9)
        .as_any()
        .downcast_ref::<StringArray>()
        .unwrap();
    let want_note = want
        .column(9)
        .as_any()
        .downcast_ref::<arrow_array::LargeStringArray>()
        .unwrap();
    assert!(note.iter().eq(want_note.iter()));

    // Overwrite: version 1 holds only the new rows.
    let v1 = write(&table, opts(WriteMode::Overwrite), &[batch(10_000, 500)]);
    assert_eq!(v1, 1);
    let snap1 = table.snapshot(None).unwrap();
    assert_eq!(ids(&snap1), (10_000..10_500).collect::<Vec<_>>());
    // Time travel.
    assert_eq!(
        ids(&table.snapshot(Some(0)).unwrap()),
        (0..3000).collect::<Vec<_>>()
    );

    // Append.
    let v2 = write(&table, opts(WriteMode::Append), &[batch(20_000, 100)]);
    assert_eq!(v2, 2);
    let snap2 = table.snapshot(None).unwrap();
    assert_eq!(snap2.num_rows(), 600);
    assert_eq!(snap2.files.len(), 2);
    let mut want: Vec<i64> = (10_000..10_500).collect();
    want.extend(20_000..20_100);
    assert_eq!(ids(&snap2), want);

    // Restore version 0.
    let v3 = table.restore(0).unwrap();
    assert_eq!(v3, 3);
    let snap3 = table.snapshot(None).unwrap();
    assert_eq!(ids(&snap3), (0..3000).collect::<Vec<_>>());
    assert_eq!(snap3.files, table.snapshot(Some(0)).unwrap().files);

    let history = table.history().unwrap();
    let ops: Vec<_> = history
        .iter()
        .map(|c| {
            (
                c.version,
                c.operation.clone().unwrap(),
                c.operation_parameters.get("mode").cloned(),
            )
        })
        .collect();
    assert_eq!(
        ops,
        vec![
            (0, "WRITE".into(), Some("Overwrite".into())),
            (1, "WRITE".into(), Some("Overwrite".into())),
            (2, "WRITE".into(), Some("Append".into())),
            (3, "RESTORE".into(), None),
        ]
    );
    assert_eq!(history[3].operation_parameters["version"], "0");
    assert_eq!(history[2].read_version, Some(1));
    assert!(
        history[0]
            .client_version
            .as_deref()
            .unwrap()
            .starts_with("cradle-")
    );
}

#[test]
fn commit_file_layout_and_stats() {
    let dir = tempfile::tempdir().unwrap();
    let table = Table::at(dir.path());
    let mut options = opts(WriteMode::Overwrite);
    options
        .operation_parameters
        .insert("delivery".into(), "2024-05".into());
    options.app_metadata = Some(serde_json::json!({"delivery_version": 7}));
    write(&table, options, &[batch(0, 10)]);
    write(&table, opts(WriteMode::Overwrite), &[batch(100, 10)]);

    let log0 =
        std::fs::read_to_string(dir.path().join("_delta_log/00000000000000000000.json")).unwrap();
    let lines: Vec<Value> = log0
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let keys: Vec<&str> = lines
        .iter()
        .map(|l| l.as_object().unwrap().keys().next().unwrap().as_str())
        .collect();
    assert_eq!(keys, ["commitInfo", "protocol", "metaData", "add"]);
    assert_eq!(lines[0]["commitInfo"]["operation"], "WRITE");
    assert_eq!(
        lines[0]["commitInfo"]["operationParameters"]["mode"],
        "Overwrite"
    );
    assert_eq!(
        lines[0]["commitInfo"]["operationParameters"]["delivery"],
        "2024-05"
    );
    assert_eq!(lines[0]["commitInfo"]["appMetadata"]["delivery_version"], 7);
    assert_eq!(lines[1]["protocol"]["minReaderVersion"], 1);
    assert_eq!(lines[1]["protocol"]["minWriterVersion"], 2);
    assert_eq!(lines[2]["metaData"]["format"]["provider"], "parquet");
    let schema: Value =
        serde_json::from_str(lines[2]["metaData"]["schemaString"].as_str().unwrap()).unwrap();
    assert_eq!(schema["fields"][8]["type"], "timestamp");
    let add = &lines[3]["add"];
    let path = add["path"].as_str().unwrap();
    assert!(path.starts_with("part-00000-") && path.ends_with("-c000.snappy.parquet"));
    assert_eq!(
        add["size"].as_u64().unwrap(),
        std::fs::metadata(dir.path().join(path)).unwrap().len()
    );
    let stats: Value = serde_json::from_str(add["stats"].as_str().unwrap()).unwrap();
    assert_eq!(stats["numRecords"], 10);
    assert_eq!(stats["minValues"]["id"], 0);
    assert_eq!(stats["maxValues"]["id"], 9);
    assert_eq!(stats["minValues"]["name"], "name-0");
    assert_eq!(stats["maxValues"]["name"], "name-9");
    assert_eq!(stats["minValues"]["day"], "2022-01-08");
    assert_eq!(stats["minValues"]["ts"], "2023-11-14T22:13:20.000Z");
    assert_eq!(stats["maxValues"]["ts"], "2023-11-14T22:13:29.001Z");
    assert_eq!(stats["nullCount"]["name"], 1);
    assert_eq!(stats["nullCount"]["id"], 0);
    assert!(stats["minValues"].get("active").is_none());

    let log1 =
        std::fs::read_to_string(dir.path().join("_delta_log/00000000000000000001.json")).unwrap();
    let lines1: Vec<Value> = log1
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines1.len(), 3, "commitInfo, remove, add:\n{log1}");
    let remove = &lines1[1]["remove"];
    assert_eq!(remove["path"].as_str().unwrap(), path);
    assert_eq!(remove["dataChange"], true);
    assert_eq!(remove["extendedFileMetadata"], true);
    assert_eq!(remove["size"], add["size"]);
    assert_eq!(lines1[0]["commitInfo"]["readVersion"], 0);
    let history = table.history().unwrap();
    assert_eq!(
        history[0].app_metadata,
        Some(serde_json::json!({"delivery_version": 7}))
    );
}

#[test]
fn streaming_writer_rolls_files() {
    let dir = tempfile::tempdir().unwrap();
    let table = Table::at(dir.path());
    let options = WriteOptions {
        target_file_rows: 250,
        row_group_rows: 100,
        ..WriteOptions::default()
    };
    let mut writer = table.writer(schema(), options).unwrap();
    for i in 0..4 {
        writer.write(&batch(i * 300, 300)).unwrap();
    }
    writer.write(&batch(5000, 0)).unwrap();
    assert_eq!(writer.rows(), 1200);
    let staged = writer.finish().unwrap();
    assert_eq!(staged.rows(), 1200);
    let counts: Vec<u64> = staged
        .files()
        .iter()
        .map(|f| f.num_records.unwrap())
        .collect();
    assert_eq!(counts, [250, 250, 250, 250, 200]);
    // Nothing visible before the commit.
    assert_eq!(table.latest_version().unwrap(), None);
    assert_eq!(staged.commit().unwrap(), 0);
    let snap = table.snapshot(None).unwrap();
    assert_eq!(snap.files.len(), 5);
    assert_eq!(snap.num_rows(), 1200);
    assert_eq!(ids(&snap), (0..1200).collect::<Vec<_>>());
}

#[test]
fn racing_commits_exactly_one_wins() {
    let dir = tempfile::tempdir().unwrap();
    let table = Table::at(dir.path());
    write(&table, opts(WriteMode::Overwrite), &[batch(0, 10)]);

    // Two writers based on version 0, sequentially.
    let stage = |start| {
        let mut w = table.writer(schema(), opts(WriteMode::Overwrite)).unwrap();
        w.write(&batch(start, 10)).unwrap();
        w.finish().unwrap()
    };
    let (a, b) = (stage(100), stage(200));
    let loser_files: Vec<String> = b.files().iter().map(|f| f.path.clone()).collect();
    assert_eq!(a.commit().unwrap(), 1);
    match b.commit() {
        Err(LakeError::ConcurrentCommit { version: 1, .. }) => {}
        other => panic!("expected ConcurrentCommit, got {other:?}"),
    }
    for f in loser_files {
        assert!(!dir.path().join(f).exists(), "loser's files are cleaned up");
    }
    assert_eq!(
        ids(&table.snapshot(None).unwrap()),
        (100..110).collect::<Vec<_>>()
    );

    // Eight threads racing for version 2.
    let n = 8;
    let staged: Vec<_> = (0..n).map(|i| stage(1000 * (i + 1))).collect();
    let barrier = Arc::new(Barrier::new(n as usize));
    let results: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = staged
            .into_iter()
            .map(|st| {
                let barrier = barrier.clone();
                s.spawn(move || {
                    barrier.wait();
                    st.commit()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let wins: Vec<_> = results.iter().filter(|r| r.is_ok()).collect();
    assert_eq!(wins.len(), 1, "{results:?}");
    assert!(results.iter().all(|r| matches!(
        r,
        Ok(2) | Err(LakeError::ConcurrentCommit { version: 2, .. })
    )));
    let snap = table.snapshot(None).unwrap();
    assert_eq!(snap.version, 2);
    assert_eq!(snap.num_rows(), 10);
    assert_eq!(ids(&snap).len(), 10);
    // Only the winner's file and the two committed ones remain on disk.
    let parquet_files = std::fs::read_dir(dir.path())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".parquet")
        })
        .count();
    assert_eq!(parquet_files, 3);
    assert!(table.vacuum_uncommitted(Duration::ZERO).unwrap().is_empty());
}

#[test]
fn crash_before_link_leaves_previous_version() {
    let dir = tempfile::tempdir().unwrap();
    let table = Table::at(dir.path());
    write(&table, opts(WriteMode::Overwrite), &[batch(0, 50)]);

    // A writer killed after writing its data files and the temp log file,
    // before the hard link: simulate by leaking the staged write (no
    // cleanup runs, as with SIGKILL) and writing the temp file by hand.
    let mut w = table.writer(schema(), opts(WriteMode::Overwrite)).unwrap();
    w.write(&batch(500, 50)).unwrap();
    let staged = w.finish().unwrap();
    let orphan = staged.files()[0].path.clone();
    std::mem::forget(staged);
    let tmp = dir
        .path()
        .join("_delta_log/.tmp-0c5c1f0e-dead-beef-0000-000000000000.json");
    std::fs::write(
        &tmp,
        format!("{{\"commitInfo\":{{}}}}\n{{\"add\":{{\"path\":\"{orphan}\",\"partitionValues\":{{}},\"size\":1,\"modificationTime\":0,\"dataChange\":true}}}}\n"),
    )
    .unwrap();
    // A half-written data file too.
    std::fs::write(
        dir.path().join("part-00000-torn-c000.snappy.parquet"),
        b"PAR1garbage",
    )
    .unwrap();

    assert_eq!(table.latest_version().unwrap(), Some(0));
    let snap = table.snapshot(None).unwrap();
    assert_eq!(snap.version, 0);
    assert_eq!(ids(&snap), (0..50).collect::<Vec<_>>());
    assert_eq!(table.history().unwrap().len(), 1);

    // The next writer commits version 1 normally.
    assert_eq!(write(&table, opts(WriteMode::Append), &[batch(50, 5)]), 1);
    assert_eq!(table.snapshot(None).unwrap().num_rows(), 55);

    // Young orphans are kept (a writer may still be running) ...
    assert!(
        table
            .vacuum_uncommitted(Duration::from_secs(3600))
            .unwrap()
            .is_empty()
    );
    // ... old ones are deleted; committed files are kept.
    let deleted = table.vacuum_uncommitted(Duration::ZERO).unwrap();
    assert_eq!(deleted.len(), 3, "{deleted:?}");
    assert!(deleted.contains(&orphan));
    assert!(!tmp.exists());
    assert_eq!(table.snapshot(None).unwrap().num_rows(), 55);
    assert_eq!(ids(&table.snapshot(Some(0)).unwrap()).len(), 50);
}

#[test]
fn dropped_writer_deletes_its_files() {
    let dir = tempfile::tempdir().unwrap();
    let table = Table::at(dir.path());
    let options = WriteOptions {
        target_file_rows: 10,
        ..WriteOptions::default()
    };
    let mut w = table.writer(schema(), options.clone()).unwrap();
    w.write(&batch(0, 25)).unwrap();
    drop(w);
    let mut w = table.writer(schema(), options).unwrap();
    w.write(&batch(0, 25)).unwrap();
    drop(w.finish().unwrap());
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn schema_rules() {
    let dir = tempfile::tempdir().unwrap();
    let table = Table::at(dir.path());
    write(&table, opts(WriteMode::Overwrite), &[batch(0, 5)]);

    let other = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("label", DataType::Utf8, true),
    ]));
    let b = RecordBatch::try_new(
        other.clone(),
        vec![
            Arc::new(Int64Array::from(vec![1, 2])),
            Arc::new(StringArray::from(vec![Some("a"), None])),
        ],
    )
    .unwrap();
    // Append may not change the schema.
    assert!(matches!(
        table.writer(other.clone(), opts(WriteMode::Append)),
        Err(LakeError::AppendSchemaChange { .. })
    ));
    // Overwrite may; time travel keeps the old schema.
    write(&table, opts(WriteMode::Overwrite), std::slice::from_ref(&b));
    let snap = table.snapshot(None).unwrap();
    assert_eq!(snap.schema, other);
    assert_eq!(
        snap.metadata.id,
        table.snapshot(Some(0)).unwrap().metadata.id
    );
    assert_eq!(table.snapshot(Some(0)).unwrap().schema.fields().len(), 10);
    // Restore brings back the old schema too.
    table.restore(0).unwrap();
    let restored = table.snapshot(None).unwrap();
    assert_eq!(restored.schema.fields().len(), 10);
    assert_eq!(scan_all(&restored)[0].num_columns(), 10);

    // A batch that does not match the writer schema.
    let mut w = table.writer(schema(), opts(WriteMode::Append)).unwrap();
    assert!(matches!(
        w.write(&b),
        Err(LakeError::BatchSchemaMismatch { .. })
    ));
    // Nulls in a non-nullable column of the writer schema.
    let strict = Arc::new(Schema::new(vec![Field::new("v", DataType::Int32, false)]));
    let loose = Arc::new(Schema::new(vec![Field::new("v", DataType::Int32, true)]));
    let dir2 = tempfile::tempdir().unwrap();
    let mut w = Table::at(dir2.path())
        .writer(strict, WriteOptions::default())
        .unwrap();
    let nulls =
        RecordBatch::try_new(loose, vec![Arc::new(Int32Array::from(vec![Some(1), None]))]).unwrap();
    assert!(matches!(
        w.write(&nulls),
        Err(LakeError::NullInNonNullable { .. })
    ));
    // Unsupported Arrow type.
    let unsigned = Arc::new(Schema::new(vec![Field::new("u", DataType::UInt32, true)]));
    let err = Table::at(dir2.path())
        .writer(unsigned, WriteOptions::default())
        .unwrap_err();
    assert!(
        matches!(err, LakeError::UnsupportedArrowType { .. }),
        "{err}"
    );
    assert!(err.to_string().contains(&dir2.path().display().to_string()));
}

#[test]
fn projection_and_errors() {
    let dir = tempfile::tempdir().unwrap();
    let table = Table::at(dir.path());
    write(&table, opts(WriteMode::Overwrite), &[batch(0, 20)]);
    let snap = table.snapshot(None).unwrap();
    let batches: Vec<_> = snap
        .scan(Some(&["qty", "id"]))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let b = &batches[0];
    assert_eq!(b.schema().field(0).name(), "qty");
    assert_eq!(b.schema().field(1).name(), "id");
    let qty = b.column(0).as_any().downcast_ref::<Int32Array>().unwrap();
    assert_eq!(qty.value(5), 10);
    assert!(matches!(
        snap.scan(Some(&["nope"])),
        Err(LakeError::UnknownColumn { .. })
    ));
    assert!(matches!(
        table.snapshot(Some(5)),
        Err(LakeError::VersionNotFound {
            version: 5,
            latest: 0,
            ..
        })
    ));
    // A data file deleted behind the table's back is a clear error.
    std::fs::remove_file(dir.path().join(&snap.files[0].path)).unwrap();
    let err = snap.scan(None).unwrap().next().unwrap().unwrap_err();
    assert!(matches!(err, LakeError::OpenDataFile { .. }), "{err}");
    assert!(matches!(
        table.restore(0),
        Err(LakeError::RestoreMissingFile { .. })
    ));
}

#[test]
fn dictionary_strings_are_stored_as_string() {
    let dir = tempfile::tempdir().unwrap();
    let table = Table::at(dir.path());
    let dict: DictionaryArray<Int32Type> = vec!["a", "b", "a", "c"].into_iter().collect();
    let schema = Arc::new(Schema::new(vec![Field::new(
        "cat",
        dict.data_type().clone(),
        true,
    )]));
    let b = RecordBatch::try_new(schema, vec![Arc::new(dict)]).unwrap();
    write(&table, WriteOptions::default(), &[b]);
    let got = scan_all(&table.snapshot(None).unwrap());
    let col = got[0]
        .column(0)
        .as_any()
        .downcast_ref::<StringArray>()
        .unwrap();
    assert_eq!(
        col.iter().flatten().collect::<Vec<_>>(),
        ["a", "b", "a", "c"]
    );
}

#[test]
fn many_commits_replay() {
    let dir = tempfile::tempdir().unwrap();
    let table = Table::at(dir.path());
    for i in 0..120 {
        let mode = if i % 10 == 0 {
            WriteMode::Overwrite
        } else {
            WriteMode::Append
        };
        write(&table, opts(mode), &[batch(i * 10, 10)]);
    }
    let snap = table.snapshot(None).unwrap();
    assert_eq!(snap.version, 119);
    assert_eq!(snap.num_rows(), 100);
    assert_eq!(ids(&snap), (1100..1200).collect::<Vec<_>>());
    assert_eq!(table.snapshot(Some(55)).unwrap().num_rows(), 60);
    assert_eq!(table.history().unwrap().len(), 120);
}
