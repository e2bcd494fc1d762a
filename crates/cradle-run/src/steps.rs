//! Each step as `cradle run` runs it: what it consumes (digested into its
//! record), when it does not apply (no Docker engine, no central), whether
//! what it produced still stands, and the library call that does the work.

use anyhow::{Context as _, Result, anyhow, bail};
use cradle_core::config::Config;
use cradle_deploy::docker::Docker;
use cradle_fs::Workspace;
use cradle_image::{BUILD_FILE, BuildOptions, BuildReport, IMAGE_FILE};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

use crate::progress::StepProgress;
use crate::record::{Metrics, StepRecord};
use crate::{Executed, RunOptions, Step, inputs};

/// The steps whose products a step consumes; a step runs only after them.
pub fn depends_on(step: Step) -> &'static [Step] {
    match step {
        Step::Ingest => &[],
        Step::Enrich => &[Step::Ingest],
        // The catalog carries enrich's classes and media texts, so a new
        // enrich means a new index.
        Step::Index => &[Step::Ingest, Step::Enrich],
        Step::Validate => &[Step::Enrich, Step::Index],
        Step::Build => &[Step::Validate],
        Step::Deploy => &[Step::Build],
        Step::Verify => &[Step::Deploy],
        // Connect is not available in this version: asked for, it fails
        // whatever ran before it.
        Step::Connect => &[],
    }
}

/// What the steps of one run share.
pub struct Context {
    options: RunOptions,
    pub workspace: Workspace,
    config: Config,
    /// The engine, once asked; the reason when it does not answer.
    docker: Option<Result<Docker, String>>,
    /// The key the deploy step of this run made (shown once, never stored).
    api_key: Option<String>,
}

impl Context {
    pub fn new(options: &RunOptions, workspace: Workspace, config: Config) -> Context {
        Context {
            options: options.clone(),
            workspace,
            config,
            docker: None,
            api_key: None,
        }
    }

    fn docker(&mut self) -> Result<&Docker, String> {
        self.docker
            .get_or_insert_with(|| Docker::connect().map_err(|e| format!("{e}")))
            .as_ref()
            .map_err(|why| why.lines().next().unwrap_or_default().to_owned())
    }

    /// Why `step` does not apply here, if it does not.
    pub fn not_applicable(&mut self, step: Step) -> Option<String> {
        match step {
            Step::Deploy | Step::Verify => self
                .docker()
                .err()
                .map(|why| format!("no Docker engine answers here: {why}")),
            Step::Connect if self.options.central.is_none() => {
                Some("no --central given".to_owned())
            }
            _ => None,
        }
    }

    fn build_options(&self) -> Result<BuildOptions> {
        Ok(BuildOptions {
            out_dir: self.options.out_dir.clone(),
            tag: None,
            binary: self.options.binary.clone(),
            source_date_epoch: cradle_image::source_date_epoch_from_env()?,
        })
    }

    fn build_report(&self) -> Result<BuildReport> {
        Ok(BuildReport::read(&self.options.out_dir.join(BUILD_FILE))?)
    }

    /// What the step would consume now (besides the cradle version and
    /// what the steps before it produced).
    pub fn consumed(&mut self, step: Step, progress: &StepProgress) -> Result<Value> {
        let config = inputs::config(&self.workspace.config_file());
        Ok(match step {
            Step::Ingest => {
                progress.begin("digesting the delivery", 0, "bytes");
                let (delivery, _) = inputs::delivery(&self.options.delivery, &|done, total| {
                    progress.set(done, total)
                })?;
                json!({
                    "customer": self.options.customer,
                    "config": config,
                    "delivery": delivery,
                })
            }
            Step::Enrich => json!({
                "config": config,
                "model": inputs::model(&self.config.enrich),
            }),
            Step::Index | Step::Validate | Step::Verify => json!({}),
            Step::Build => {
                // Everything the image is made of: file sizes and times,
                // the executable's digest, the settings.
                let plan = cradle_image::plan(&self.workspace, &self.build_options()?)?;
                json!({ "image_inputs": plan.inputs, "out": self.options.out_dir })
            }
            Step::Deploy => json!({
                "config": config,
                "image_id": self.build_report()?.config_digest,
            }),
            Step::Connect => json!({
                "central": self.options.central.as_ref().map(|c| &c.url),
            }),
        })
    }

    /// Whether what the step produced (beyond its files) still stands.
    pub fn still_holds(&mut self, step: Step, record: &StepRecord) -> bool {
        match step {
            Step::Ingest => {
                let latest = cradle_lakehouse::Lakehouse::new(self.workspace.lakehouse_dir())
                    .latest()
                    .ok()
                    .flatten()
                    .map(|r| r.delivery);
                latest.is_some() && latest == record.metrics.delivery_version
            }
            Step::Deploy => {
                let (Some(container), Some(image_id)) = (
                    record.metrics.container.clone(),
                    record.consumed["step"]["image_id"]
                        .as_str()
                        .map(str::to_owned),
                ) else {
                    return false;
                };
                let Ok(docker) = self.docker() else {
                    return false;
                };
                docker.container_image(&container).as_deref() == Some(image_id.as_str())
                    && docker
                        .status(&container)
                        .is_ok_and(|(state, health)| state == "running" && health == "healthy")
            }
            _ => true,
        }
    }

    /// Does the step's work.
    pub fn execute(&mut self, step: Step, progress: &StepProgress) -> Result<Executed> {
        let ws = self.workspace.clone();
        match step {
            Step::Ingest => {
                let request = cradle_pipeline::ingest::IngestRequest {
                    paths: self.options.delivery.clone(),
                    workspace: ws.clone(),
                    customer: Some(self.options.customer.clone()),
                    strict: false,
                };
                let report = cradle_pipeline::ingest::ingest(&request, progress)?;
                if !report.balance_ok {
                    bail!(
                        "the cells of the delivery do not balance (a bug; the delivery is published)\nhint: report it with {}",
                        ws.report("ingest.json").display()
                    );
                }
                let mut message = format!(
                    "delivery {}: {} products, {} data points, {} rejected rows from {} files",
                    report.delivery,
                    report.products,
                    report.data_points,
                    report.rejected_rows,
                    report.files.len()
                );
                if !report.unreadable_files.is_empty() {
                    message.push_str(&format!(
                        "; {} files could not be read at all (see {})",
                        report.unreadable_files.len(),
                        ws.report("ingest.txt").display()
                    ));
                }
                Ok(Executed {
                    outputs: vec![
                        ws.report("ingest.json"),
                        cradle_lakehouse::deliveries::record_file(
                            &ws.lakehouse_dir(),
                            report.delivery,
                        ),
                    ],
                    metrics: Metrics {
                        delivery_version: Some(report.delivery),
                        products: Some(report.products),
                        files: Some(report.files.len() as u64),
                        data_points: Some(report.data_points),
                        rejected_rows: Some(report.rejected_rows),
                        ..Metrics::default()
                    },
                    produced: json!({ "delivery": report.delivery }),
                    message,
                })
            }
            Step::Enrich => {
                let request = cradle_pipeline::enrich::EnrichRequest::new(ws.clone());
                let report = cradle_pipeline::enrich::enrich(&request, progress)?;
                Ok(Executed {
                    outputs: vec![
                        ws.vector_index_file(),
                        ws.model_file(),
                        ws.report("enrich.json"),
                    ],
                    metrics: Metrics {
                        chunks: Some(report.chunks),
                        vectors: Some(report.embeddings),
                        embedded_now: Some(report.embedded_now),
                        embeddings_reused: Some(report.embeddings_reused),
                        classified: Some(report.classified),
                        ..Metrics::default()
                    },
                    produced: Value::Null,
                    message: format!(
                        "{} chunks, {} vectors ({} embedded now at {:.0} texts/s, {} reused), {} classified",
                        report.chunks,
                        report.embeddings,
                        report.embedded_now,
                        report.embed_rate,
                        report.embeddings_reused,
                        report.classified
                    ),
                })
            }
            Step::Index => {
                progress.note("search index and catalog");
                let report = cradle_pipeline::index::build(&ws)?;
                Ok(Executed {
                    outputs: vec![ws.catalog_file(), ws.report("index.json")],
                    metrics: Metrics {
                        search_documents: Some(report.search_documents),
                        ..Metrics::default()
                    },
                    produced: Value::Null,
                    message: format!(
                        "{} documents searchable, catalog {:.1} MB",
                        report.search_documents,
                        report.catalog_bytes as f64 / 1e6
                    ),
                })
            }
            Step::Validate => {
                progress.note("checking the workspace");
                let validation = cradle_deploy::validate(ws.root());
                if !validation.ok {
                    let problems: Vec<String> = validation
                        .checks
                        .iter()
                        .filter(|c| c.status == cradle_deploy::Status::Error)
                        .map(|c| match &c.fix {
                            Some(fix) => format!("{}: {} (fix: {fix})", c.name, c.detail),
                            None => format!("{}: {}", c.name, c.detail),
                        })
                        .collect();
                    bail!(
                        "the workspace is not ready for an image:\n  {}\nhint: `cradle validate --workspace {}` lists every check",
                        problems.join("\n  "),
                        ws.root().display()
                    );
                }
                Ok(Executed {
                    outputs: Vec::new(),
                    metrics: Metrics::default(),
                    produced: json!({ "warnings": validation.warnings }),
                    message: format!(
                        "ready to build ({} warnings{})",
                        validation.warnings,
                        if validation.enriched {
                            ", with embeddings"
                        } else {
                            ""
                        }
                    ),
                })
            }
            Step::Build => {
                let started = Instant::now();
                let plan = cradle_image::plan(&ws, &self.build_options()?)?;
                let report = cradle_image::write(&plan, progress, started)?;
                Ok(Executed {
                    outputs: vec![report.image.clone(), self.options.out_dir.join(BUILD_FILE)],
                    metrics: Metrics {
                        image_digest: Some(report.digest.clone()),
                        image_size: Some(report.size),
                        image_uncompressed_size: Some(report.uncompressed_size),
                        ..Metrics::default()
                    },
                    produced: json!({ "digest": report.digest, "image_id": report.config_digest }),
                    message: format!(
                        "{} {} ({:.1} MB) in {}",
                        report.tag,
                        report.digest,
                        report.size as f64 / 1e6,
                        self.options.out_dir.join(IMAGE_FILE).display()
                    ),
                })
            }
            Step::Deploy => {
                let mut deploy = cradle_deploy::DeployOptions::new(ws.root());
                deploy.out_dir = Some(self.options.out_dir.clone());
                deploy.binary = self.options.binary.clone();
                deploy.healthy_within = Duration::from_secs(120);
                deploy.verify = false;
                let report = cradle_deploy::deploy(&deploy, progress)?;
                self.api_key = Some(report.api_key.clone());
                Ok(Executed {
                    outputs: Vec::new(),
                    metrics: Metrics {
                        healthy_ms: Some(report.healthy_ms),
                        url: Some(report.url.clone()),
                        container: Some(report.container.clone()),
                        ..Metrics::default()
                    },
                    produced: json!({ "container": report.container, "digest": report.digest }),
                    message: format!(
                        "{} on {} (healthy {:.1} s after start); first console user: {}",
                        report.container,
                        report.url,
                        report.healthy_ms / 1000.0,
                        report.first_user_command
                    ),
                })
            }
            Step::Verify => {
                let deployed = StepRecord::read(&ws, Step::Deploy)
                    .context("the deploy step left no record")?
                    .metrics;
                let url = deployed.url.context("the deploy step recorded no URL")?;
                let container = deployed
                    .container
                    .context("the deploy step recorded no container")?;
                let key = match self.api_key.clone() {
                    Some(key) => key,
                    None => {
                        progress.note("creating an API key in the deployment");
                        let docker = self.docker().map_err(|why| anyhow!(why))?.clone();
                        cradle_deploy::create_api_key(&docker, &container)
                            .with_context(|| format!("cannot create an API key in {container}"))?
                            .0
                    }
                };
                progress.note(&format!("checking {url}"));
                let mut options = cradle_deploy::VerifyOptions::new(&url, ws.root());
                options.api_key = Some(key);
                let report = cradle_deploy::verify(&options)?;
                if !report.all_passed() {
                    let failed: Vec<String> = report
                        .checks
                        .iter()
                        .filter(|c| !c.ok)
                        .map(|c| format!("{}: {}", c.name, c.detail))
                        .collect();
                    bail!(
                        "{} of {} checks of {url} failed:\n  {}\nhint: `docker logs {container}` shows the server's log; `cradle verify {url} --workspace {} --api-key <key>` repeats the checks",
                        report.failed + report.skipped,
                        report.checks.len(),
                        failed.join("\n  "),
                        ws.root().display()
                    );
                }
                Ok(Executed {
                    outputs: Vec::new(),
                    metrics: Metrics {
                        verify_passed: Some(report.passed as u64),
                        ..Metrics::default()
                    },
                    produced: Value::Null,
                    message: format!("{}: all {} checks passed", url, report.passed),
                })
            }
            Step::Connect => {
                let url = self
                    .options
                    .central
                    .as_ref()
                    .map(|c| c.url.clone())
                    .unwrap_or_default();
                bail!(
                    "connect is not available in this version of cradle ({}): the central control plane it registers with does not exist yet, so nothing was sent to {url}\nhint: leave out --central and --token; the deployment runs and was verified without them",
                    crate::CRADLE_VERSION
                )
            }
        }
    }
}

/// A hint the failure itself does not give, for the step it stopped.
pub fn hint(step: Step, error: &anyhow::Error, options: &RunOptions) -> Option<String> {
    match step {
        Step::Enrich if crate::retry::is_transient(error) => {
            let config = Workspace::new(&options.workspace).config_file();
            Some(format!(
                "the embeddings endpoint did not answer in time: start it or fix `[enrich] endpoint` in {} (without it the local model embeds)",
                config.display()
            ))
        }
        _ => None,
    }
}
