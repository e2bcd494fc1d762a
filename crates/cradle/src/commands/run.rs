//! `cradle run <DELIVERY>... --customer <ID>`: the whole gold process in
//! one call (`cradle_run::run`): ingest, enrich, index, validate, build,
//! deploy, verify, connect; each step skipped when nothing it consumes
//! changed, so running it again after a failure or a kill goes on where it
//! stopped. Live progress on stderr, `--events` as JSON lines, the metrics
//! record in `<WS>/reports/run.json`.

use anyhow::{Context, Result};
use cradle_run::{Central, JsonLines, Observer, Outcome, RunOptions, Step};
use std::path::PathBuf;
use std::process::ExitCode;

use crate::progress::RunProgress;

#[derive(clap::Args)]
pub struct Args {
    /// Files, folders or ZIP archives the customer delivered.
    #[arg(required = true)]
    pub delivery: Vec<PathBuf>,
    /// Customer id (names the workspace, the image and the deployment).
    #[arg(long)]
    pub customer: String,
    /// The customer's workspace (default: ./<customer>).
    #[arg(long, short)]
    pub workspace: Option<PathBuf>,
    /// Where image.tar, compose.yaml, k8s/ and build.json go (default: <WS>/image).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// The last step to run: ingest, enrich, index, validate, build, deploy, verify or connect.
    #[arg(long, value_name = "STEP", value_parser = parse_step)]
    pub until: Option<Step>,
    /// Run this step and every one after it even if nothing changed.
    #[arg(long, value_name = "STEP", value_parser = parse_step)]
    pub from: Option<Step>,
    /// The central control plane to connect the deployment to.
    #[arg(long, value_name = "URL", requires = "token")]
    pub central: Option<String>,
    /// The token the central issued for this customer.
    #[arg(long, value_name = "T", requires = "central")]
    pub token: Option<String>,
    /// Write every event as a line of JSON to FILE, or to stdout with `-`.
    #[arg(long, value_name = "FILE|-")]
    pub events: Option<PathBuf>,
}

fn parse_step(text: &str) -> Result<Step, String> {
    text.parse()
}

pub fn run(args: Args) -> Result<ExitCode> {
    let workspace = args
        .workspace
        .clone()
        .unwrap_or_else(|| PathBuf::from(&args.customer));
    let mut options = RunOptions::new(args.delivery.clone(), &args.customer);
    options.out_dir = args
        .out
        .clone()
        .unwrap_or_else(|| cradle_run::default_out_dir(&workspace));
    options.workspace = workspace;
    options.until = args.until.unwrap_or(Step::Connect);
    options.from = args.from;
    options.central = args.central.clone().map(|url| Central {
        url,
        token: args.token.clone().unwrap_or_default(),
    });
    options.command = again(&args);
    if let Some(from) = options.from
        && from > options.until
    {
        anyhow::bail!(
            "--from {from} comes after --until {}\nhint: the steps run in the order {}",
            options.until,
            Step::ALL.map(Step::name).join(", ")
        );
    }

    let to_stdout = args.events.as_deref() == Some(std::path::Path::new("-"));
    let file_events = match &args.events {
        Some(path) if !to_stdout => {
            let file = std::fs::File::create(path)
                .with_context(|| format!("cannot write the events to {}", path.display()))?;
            Some(JsonLines::new(std::io::BufWriter::new(file)))
        }
        _ => None,
    };
    let stdout_events = to_stdout.then(|| JsonLines::new(std::io::stdout()));
    let progress = RunProgress::new();
    let mut observers: Vec<&dyn Observer> = vec![&progress];
    if let Some(events) = &file_events {
        observers.push(events);
    }
    if let Some(events) = &stdout_events {
        observers.push(events);
    }
    let record = cradle_run::run(&options, &cradle_run::event::Fanout(observers));
    progress.finish();
    let record = record?;

    // The summary goes where the events do not.
    let mut summary = String::new();
    summary.push_str(&format!(
        "Run of {} in {} ({:.1} s):\n",
        record.customer,
        record.workspace.display(),
        record.seconds
    ));
    for step in &record.steps {
        let state = match step.state {
            Outcome::Done => "done   ",
            Outcome::Skipped => "skipped",
            Outcome::Failed => "FAILED ",
        };
        let first = step.message.lines().next().unwrap_or_default();
        summary.push_str(&format!(
            "  {:<9} {state} {:>7.1} s  {first}\n",
            step.name, step.seconds
        ));
    }
    let m = &record.metrics;
    let number = |v: Option<u64>| v.map_or("-".to_owned(), cradle_pipeline::text::group_thousands);
    summary.push_str(&format!(
        "  products {}, files {}, data points {}, rejected rows {}, chunks {}, vectors {}, classified {}\n",
        number(m.products),
        number(m.files),
        number(m.data_points),
        number(m.rejected_rows),
        number(m.chunks),
        number(m.vectors),
        number(m.classified)
    ));
    if let Some(digest) = &m.image_digest {
        summary.push_str(&format!(
            "  image {digest} ({:.1} MB)\n",
            m.image_size.unwrap_or(0) as f64 / 1e6
        ));
    }
    if let (Some(url), Some(ms)) = (&m.url, m.healthy_ms) {
        summary.push_str(&format!(
            "  serving at {url} (healthy in {:.1} s)\n",
            ms / 1000.0
        ));
    }
    summary.push_str(&format!(
        "  report: {}\n",
        record.workspace.join("reports/run.json").display()
    ));
    if to_stdout {
        eprint!("{summary}");
    } else {
        print!("{summary}");
    }
    match &record.error {
        Some(error) => {
            eprintln!("error: {error}");
            Ok(ExitCode::from(1))
        }
        None => Ok(ExitCode::SUCCESS),
    }
}

/// The command line that repeats this run, for the hint after a failure.
fn again(args: &Args) -> String {
    let mut words = vec!["cradle".to_owned(), "run".to_owned()];
    words.extend(
        args.delivery
            .iter()
            .map(|p| quote(&p.display().to_string())),
    );
    words.push(format!("--customer {}", quote(&args.customer)));
    if let Some(ws) = &args.workspace {
        words.push(format!("--workspace {}", quote(&ws.display().to_string())));
    }
    if let Some(out) = &args.out {
        words.push(format!("--out {}", quote(&out.display().to_string())));
    }
    if let Some(until) = args.until {
        words.push(format!("--until {until}"));
    }
    if let Some(central) = &args.central {
        words.push(format!("--central {} --token <token>", quote(central)));
    }
    words.join(" ")
}

fn quote(text: &str) -> String {
    if text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_./:=@".contains(c))
    {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}
