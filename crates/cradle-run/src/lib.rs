//! `cradle run`: the whole gold process as one call, ingest → enrich →
//! index → validate → build → deploy → verify → connect, that can be
//! stopped at any moment and started again.
//!
//! Each step that succeeds leaves a [`record::StepRecord`] in
//! `<WS>/run/<step>.json` (written atomically, after its outputs): what it
//! consumed (input digests, configuration, the cradle version, what the
//! steps before it produced), what it produced and its numbers. A step is
//! skipped when its record says it consumed exactly what it would consume
//! now and its outputs are still as it left them; otherwise the record is
//! removed and the step runs. So a second run skips everything, a run
//! after a failure starts at the failed step, a killed run starts again at
//! the step it was in (each step publishes atomically, see the crates
//! doing the work), and `from` forces a step and every step after it.
//!
//! Failures that pass (an endpoint timing out or answering 5xx, a
//! container slow to become healthy) are retried with backoff within a
//! bounded time ([`retry`]); any other failure stops the run with the
//! step, the cause and the fix. Every change is an [`event::Event`] for an
//! [`event::Observer`]; the numbers of the run go to
//! `<WS>/reports/run.json` and one line of `<WS>/reports/runs.jsonl`
//! ([`record::RunRecord`]).
//!
//! The steps themselves are library calls (`cradle_pipeline`,
//! `cradle_deploy`, `cradle_image`); this crate only orders, records and
//! retries them.

pub mod event;
pub mod inputs;
pub mod progress;
pub mod record;
pub mod retry;
pub mod step;
mod steps;

use anyhow::{Context, Result};
use cradle_core::config::Config;
use cradle_fs::{Workspace, WorkspaceLock};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

pub use event::{Event, JsonLines, Observer, Quiet, State};
pub use record::{Metrics, Outcome, RunRecord, StepOutcome, StepRecord};
pub use retry::RetryPolicy;
pub use step::Step;

/// The cradle version every record names; a different cradle runs every
/// step again.
pub const CRADLE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The control plane to connect to.
#[derive(Debug, Clone)]
pub struct Central {
    pub url: String,
    pub token: String,
}

/// What to run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Files, folders or ZIP archives the customer delivered.
    pub delivery: Vec<PathBuf>,
    pub customer: String,
    pub workspace: PathBuf,
    /// Where `image.tar`, `compose.yaml`, `k8s/` and `build.json` go.
    pub out_dir: PathBuf,
    /// The last step to run.
    pub until: Step,
    /// Run this step and every step after it even if nothing changed.
    pub from: Option<Step>,
    pub central: Option<Central>,
    /// A static cradle for the image (default: the running one if static,
    /// else `CRADLE_STATIC_BINARY`).
    pub binary: Option<PathBuf>,
    /// The command that runs this again, for hints (`cradle run ...`).
    pub command: String,
}

impl RunOptions {
    /// The defaults: workspace `./<customer>`, image files in
    /// `<WS>/image`, every step.
    pub fn new(delivery: Vec<PathBuf>, customer: &str) -> RunOptions {
        let workspace = PathBuf::from(customer);
        RunOptions {
            out_dir: default_out_dir(&workspace),
            delivery,
            customer: customer.to_owned(),
            workspace,
            until: Step::Connect,
            from: None,
            central: None,
            binary: None,
            command: String::new(),
        }
    }
}

/// Where the image goes when no folder is named: `<WS>/image` (where
/// `cradle deploy` builds too).
pub fn default_out_dir(workspace: &std::path::Path) -> PathBuf {
    workspace.join("image")
}

/// How one step ended in this run.
enum Ended {
    Done(Box<StepRecord>, String),
    Skipped(String),
    Failed(String),
}

/// Runs the steps up to `options.until`, telling `observer` as it goes,
/// and writes the run's record. A failing step ends the run with
/// `ok: false` in the record (an `Err` is returned only when the run could
/// not start or its record could not be written).
pub fn run(options: &RunOptions, observer: &dyn Observer) -> Result<RunRecord> {
    let started = Instant::now();
    let started_at = event::now_millis();
    let workspace = Workspace::new(&options.workspace);
    workspace
        .create()
        .with_context(|| format!("cannot create the workspace {}", workspace.root().display()))?;
    // One run at a time per workspace; each step takes the workspace lock
    // itself.
    let _run_lock = WorkspaceLock::acquire(&workspace.run_dir())?;
    let config = Config::load(&workspace.config_file())?;
    let policy = RetryPolicy::from_config(&config.run);
    let mut context = steps::Context::new(options, workspace.clone(), config);

    let mut outcomes = Vec::new();
    let mut metrics = Metrics::default();
    let mut produced: BTreeMap<Step, String> = BTreeMap::new();
    let mut failure: Option<(Step, String)> = None;
    for step in Step::ALL.into_iter().filter(|s| *s <= options.until) {
        let step_started = Instant::now();
        let mut retries = 0;
        let ended = attempt(
            step,
            options,
            &mut context,
            &produced,
            policy,
            observer,
            &mut retries,
        );
        let seconds = step_started.elapsed().as_secs_f64();
        let (state, message) = match ended {
            Ended::Done(record, message) => {
                metrics.merge(&record.metrics);
                produced.insert(step, record.produced.clone());
                observer.event(&Event::new(step.name(), State::Done).message(message.clone()));
                (Outcome::Done, message)
            }
            Ended::Skipped(reason) => {
                if let Some(record) = StepRecord::read(&workspace, step)
                    .filter(|r| reason.starts_with(UNCHANGED) && r.cradle_version == CRADLE_VERSION)
                {
                    metrics.merge(&record.metrics);
                    produced.insert(step, record.produced.clone());
                }
                observer.event(&Event::new(step.name(), State::Skipped).message(reason.clone()));
                (Outcome::Skipped, reason)
            }
            Ended::Failed(message) => {
                observer.event(&Event::new(step.name(), State::Failed).message(message.clone()));
                failure = Some((step, message.clone()));
                (Outcome::Failed, message)
            }
        };
        outcomes.push(StepOutcome {
            name: step.name().to_owned(),
            state,
            seconds,
            message,
            retries,
        });
        if failure.is_some() {
            break;
        }
    }

    let record = RunRecord {
        customer: options.customer.clone(),
        cradle_version: CRADLE_VERSION.to_owned(),
        workspace: std::fs::canonicalize(workspace.root())
            .unwrap_or_else(|_| workspace.root().to_path_buf()),
        started_at,
        finished_at: event::now_millis(),
        ok: failure.is_none(),
        failed_step: failure.as_ref().map(|(step, _)| step.name().to_owned()),
        error: failure.map(|(_, message)| message),
        steps: outcomes,
        metrics,
        seconds: started.elapsed().as_secs_f64(),
    };
    record.write(&workspace)?;
    let mut last = Event::new(
        "run",
        if record.ok {
            State::Done
        } else {
            State::Failed
        },
    )
    .message(match &record.failed_step {
        Some(step) => format!("failed in {step}"),
        None => format!("finished in {:.1} s", record.seconds),
    });
    last.record = Some(Box::new(record.clone()));
    observer.event(&last);
    Ok(record)
}

/// The prefix of the reason of a step skipped because nothing changed.
pub const UNCHANGED: &str = "unchanged since";

/// Decides whether `step` runs, runs it (with retries), records it.
fn attempt(
    step: Step,
    options: &RunOptions,
    context: &mut steps::Context,
    produced: &BTreeMap<Step, String>,
    policy: RetryPolicy,
    observer: &dyn Observer,
    retries: &mut u32,
) -> Ended {
    let workspace = context.workspace.clone();
    // Steps this one builds on that did not run or were not recorded.
    let missing: Vec<&str> = steps::depends_on(step)
        .iter()
        .filter(|s| !produced.contains_key(s))
        .map(|s| s.name())
        .collect();
    if !missing.is_empty() {
        return Ended::Skipped(format!("{} did not run", missing.join(" and ")));
    }
    if let Some(reason) = context.not_applicable(step) {
        return Ended::Skipped(reason);
    }
    let progress = progress::StepProgress::new(step, observer);
    let consumed = match context.consumed(step, &progress) {
        Ok(consumed) => consumed,
        Err(error) => return Ended::Failed(failure_message(step, &error, options)),
    };
    let chain: Vec<&String> = steps::depends_on(step)
        .iter()
        .filter_map(|s| produced.get(s))
        .collect();
    let consumed = json!({
        "cradle_version": CRADLE_VERSION,
        "after": chain,
        "step": consumed,
    });
    let inputs = record::digest_json(&consumed);
    let forced = options.from.is_some_and(|from| step >= from);
    if !forced
        && let Some(record) = StepRecord::read(&workspace, step)
        && record.inputs == inputs
        && record.cradle_version == CRADLE_VERSION
        && record.outputs.iter().all(record::Stamp::holds)
        && context.still_holds(step, &record)
    {
        return Ended::Skipped(format!("{UNCHANGED} {}", record.finished_at));
    }
    if let Err(error) = StepRecord::remove(&workspace, step) {
        return Ended::Failed(failure_message(step, &error, options));
    }

    observer.event(&Event::new(step.name(), State::Started).message(if forced {
        "forced by --from".to_owned()
    } else {
        "inputs changed or not run before".to_owned()
    }));
    let first_attempt = Instant::now();
    let started = Instant::now();
    let executed = loop {
        match context.execute(step, &progress) {
            Ok(executed) => break executed,
            Err(error) => {
                let wait = policy.wait(*retries + 1);
                let transient = retry::is_transient(&error);
                if !transient
                    || *retries >= policy.retries
                    || first_attempt.elapsed() + wait > policy.within
                {
                    let mut message = failure_message(step, &error, options);
                    if transient {
                        message = format!(
                            "{message}\n(tried {} times over {:.0} s)",
                            *retries + 1,
                            first_attempt.elapsed().as_secs_f64()
                        );
                    }
                    return Ended::Failed(message);
                }
                *retries += 1;
                observer.event(&Event::new(step.name(), State::Retrying).message(format!(
                    "attempt {} of {} in {:.0} s: {}",
                    *retries + 1,
                    policy.retries + 1,
                    wait.as_secs_f64(),
                    first_line(&format!("{error:#}"))
                )));
                std::thread::sleep(wait);
            }
        }
    };
    let outputs: Vec<record::Stamp> = executed
        .outputs
        .iter()
        .filter_map(|path| record::Stamp::of(path))
        .collect();
    let produced_digest = record::digest_json(&json!({
        "inputs": inputs,
        "outputs": outputs,
        "metrics": executed.metrics,
        "produced": executed.produced,
    }));
    let record = StepRecord {
        step: step.name().to_owned(),
        cradle_version: CRADLE_VERSION.to_owned(),
        inputs,
        consumed,
        produced: produced_digest,
        outputs,
        metrics: executed.metrics,
        finished_at: event::now_millis(),
        seconds: started.elapsed().as_secs_f64(),
    };
    if let Err(error) = record.write(&workspace, step) {
        return Ended::Failed(failure_message(step, &error, options));
    }
    Ended::Done(Box::new(record), executed.message)
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}

/// The cause with its chain and hint, then how to go on.
fn failure_message(step: Step, error: &anyhow::Error, options: &RunOptions) -> String {
    let mut message = format!("{step} failed: {error:#}");
    if let Some(hint) = steps::hint(step, error, options) {
        message.push_str(&format!("\nhint: {hint}"));
    }
    if !options.command.is_empty() {
        message.push_str(&format!(
            "\nthen: `{}` continues from {step}",
            options.command
        ));
    }
    message
}

/// What a step hands back to be recorded.
pub(crate) struct Executed {
    /// Files whose change makes the step run again.
    pub outputs: Vec<PathBuf>,
    pub metrics: Metrics,
    /// What else the next steps depend on (an image id).
    pub produced: Value,
    /// One line for people.
    pub message: String,
}
