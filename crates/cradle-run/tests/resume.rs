//! The records that make a run resumable, through the library on a real
//! demo delivery (ingest only, so no model is needed): a step runs once,
//! is skipped while nothing it consumed or produced changed, and runs
//! again when a delivered byte, `cradle.toml` or one of its outputs
//! changes, or when `from` forces it.

use cradle_run::{Outcome, Quiet, RunOptions, Step, StepRecord};
use std::path::Path;

fn ingest_only(delivery: &Path, ws: &Path) -> RunOptions {
    let mut options = RunOptions::new(vec![delivery.to_path_buf()], "acme");
    options.workspace = ws.to_path_buf();
    options.out_dir = cradle_run::default_out_dir(ws);
    options.until = Step::Ingest;
    options
}

fn ingest_state(options: &RunOptions) -> (Outcome, String) {
    let record = cradle_run::run(options, &Quiet).unwrap();
    assert!(record.ok, "{record:#?}");
    assert_eq!(record.steps.len(), 1);
    (record.steps[0].state, record.steps[0].message.clone())
}

#[test]
fn a_step_runs_again_exactly_when_what_it_consumed_or_produced_changed() {
    let dir = tempfile::tempdir().unwrap();
    let delivery = dir.path().join("delivery");
    let manifest = cradle_demo::generate(
        &delivery,
        &cradle_demo::DemoOptions {
            scale: 0.005,
            seed: 7,
        },
    )
    .unwrap();
    let ws = dir.path().join("ws");
    let options = ingest_only(&delivery, &ws);

    let record = cradle_run::run(&options, &Quiet).unwrap();
    assert_eq!(record.steps[0].state, Outcome::Done, "{record:#?}");
    assert_eq!(record.metrics.products, Some(manifest.products));
    assert_eq!(record.metrics.delivery_version, Some(1));
    let step = StepRecord::read(&cradle_fs::Workspace::new(&ws), Step::Ingest).unwrap();
    assert_eq!(step.cradle_version, cradle_run::CRADLE_VERSION);
    assert!(step.inputs.starts_with("sha256:"));
    assert!(!step.outputs.is_empty());

    // Nothing changed: skipped, with the numbers of the record.
    let (state, message) = ingest_state(&options);
    assert_eq!(state, Outcome::Skipped);
    assert!(message.starts_with(cradle_run::UNCHANGED), "{message}");
    let again = cradle_run::run(&options, &Quiet).unwrap();
    assert_eq!(again.metrics.products, Some(manifest.products));

    // The same files named by another path are the same delivery.
    let mut elsewhere = options.clone();
    elsewhere.delivery = vec![delivery.join("..").join("delivery")];
    assert_eq!(ingest_state(&elsewhere).0, Outcome::Skipped);

    // One byte of one file: ingest again.
    let file = delivery.join("compliance/umwelt_compliance.csv");
    let mut bytes = std::fs::read(&file).unwrap();
    bytes.extend_from_slice(b"\n");
    std::fs::write(&file, bytes).unwrap();
    assert_eq!(ingest_state(&options).0, Outcome::Done);
    assert_eq!(ingest_state(&options).0, Outcome::Skipped);

    // The configuration is an input.
    std::fs::write(ws.join("cradle.toml"), "customer = \"acme\"\n").unwrap();
    assert_eq!(ingest_state(&options).0, Outcome::Done);

    // An output that changed or went: the step runs again.
    std::fs::remove_file(ws.join("reports/ingest.json")).unwrap();
    assert_eq!(ingest_state(&options).0, Outcome::Done);

    // Forced.
    let mut forced = options.clone();
    forced.from = Some(Step::Ingest);
    assert_eq!(ingest_state(&forced).0, Outcome::Done);

    // A record from another cradle does not count.
    let workspace = cradle_fs::Workspace::new(&ws);
    let mut record = StepRecord::read(&workspace, Step::Ingest).unwrap();
    record.cradle_version = "0.0.0-other".into();
    record.write(&workspace, Step::Ingest).unwrap();
    assert_eq!(ingest_state(&options).0, Outcome::Done);

    // Every run is a line of the history.
    let history = std::fs::read_to_string(ws.join("reports/runs.jsonl")).unwrap();
    assert_eq!(history.lines().count(), 10);
    for line in history.lines() {
        let record: cradle_run::RunRecord = serde_json::from_str(line).unwrap();
        assert_eq!(record.customer, "acme");
    }
}

#[test]
fn a_missing_delivery_fails_the_ingest_step_with_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let mut options = ingest_only(&dir.path().join("nowhere"), &dir.path().join("ws"));
    options.command = "cradle run nowhere --customer acme".into();
    let record = cradle_run::run(&options, &Quiet).unwrap();
    assert!(!record.ok);
    assert_eq!(record.failed_step.as_deref(), Some("ingest"));
    let error = record.error.unwrap();
    assert!(error.contains("cannot read the delivery"), "{error}");
    assert!(error.contains("hint:"), "{error}");
    assert!(
        error.contains("`cradle run nowhere --customer acme` continues from ingest"),
        "{error}"
    );
}
