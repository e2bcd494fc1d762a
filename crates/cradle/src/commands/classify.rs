//! `cradle classify --eval --workspace <WS>`: how well the ETIM classifier
//! does on products whose class is known, classified blind.

use anyhow::{Context, Result, bail};
use cradle_core::config::Config;
use cradle_fs::Workspace;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// The customer's workspace (after `cradle enrich`).
    #[arg(long, short)]
    pub workspace: PathBuf,
    /// Hold out a share of the classified products, classify them with
    /// their code hidden and report accuracy@1, accuracy@3 and confusions.
    #[arg(long)]
    pub eval: bool,
    /// The share of classified products held out.
    #[arg(long, default_value_t = 0.2)]
    pub holdout: f64,
    /// Chooses which products are held out.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// A directory with an ETIM CSV export (default: [enrich] etim, else
    /// the built-in lighting excerpt).
    #[arg(long)]
    pub etim: Option<PathBuf>,
}

pub fn run(args: Args) -> Result<ExitCode> {
    if !args.eval {
        bail!(
            "products are classified by `cradle enrich`; this command evaluates the classifier\nhint: cradle classify --eval --workspace {}",
            args.workspace.display()
        );
    }
    if !(args.holdout > 0.0 && args.holdout < 1.0) {
        bail!(
            "--holdout must be between 0 and 1 (exclusive), got {}",
            args.holdout
        );
    }
    let workspace = Workspace::new(&args.workspace);
    let config = Config::load(&workspace.config_file())?;
    let (model, source) =
        cradle_pipeline::enrich::etim_model(&config.enrich, args.etim.as_deref())?;
    let run = cradle_enrich::eval::evaluate(&workspace, &model, args.holdout, args.seed)
        .with_context(|| {
            format!(
                "evaluating the classifier on {}",
                workspace.root().display()
            )
        })?;
    println!(
        "Held out {} of {} products with a valid class code ({:.0} %, seed {}); ETIM model: {source}",
        run.held_out,
        run.labelled,
        args.holdout * 100.0,
        args.seed
    );
    println!("accuracy@1 {:.4}", run.evaluation.accuracy_at_1);
    println!("accuracy@3 {:.4}", run.evaluation.accuracy_at_3);
    print!("{}", run.evaluation);
    let path = workspace.report("classify-eval.json");
    let json = serde_json::json!({
        "held_out": run.held_out,
        "labelled": run.labelled,
        "share": args.holdout,
        "seed": args.seed,
        "accuracy_at_1": run.evaluation.accuracy_at_1,
        "accuracy_at_3": run.evaluation.accuracy_at_3,
        "etim_model": source,
    });
    cradle_fs::write_atomic(&path, &serde_json::to_vec_pretty(&json)?)
        .with_context(|| format!("cannot write {}", path.display()))?;
    println!("Report: {}", path.display());
    Ok(ExitCode::SUCCESS)
}
