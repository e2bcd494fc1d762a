//! `deploy`: a workspace onto the local Docker engine, proven. Validate,
//! build the image if its inputs changed, `docker load` it if the engine
//! lacks it, `compose up` with the generated file (the container is
//! replaced, its state volume kept), wait until Docker reports it healthy,
//! create an API key inside the deployment's state (the image's own
//! `cradle api-key create`), and verify the deployment with that key.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use cradle_fs::Workspace;
use cradle_image::{BUILD_FILE, BuildOptions, BuildReport, Progress, Settings};
use serde::Serialize;

use crate::docker::Docker;
use crate::validate::{Status, describe, validate};
use crate::verify::{VerifyOptions, VerifyReport, verify};

/// How many log lines of the container a failure shows.
pub const LOG_LINES: usize = 30;

/// What to deploy.
#[derive(Debug, Clone)]
pub struct DeployOptions {
    pub workspace: PathBuf,
    /// The port on this machine; default the image's (`[deploy] port`).
    pub port: Option<u16>,
    /// Where the image and its files are written; default `<WS>/image`.
    pub out_dir: Option<PathBuf>,
    /// A static cradle for the image (see `cradle_image::find_static_binary`).
    pub binary: Option<PathBuf>,
    /// How long the container may take to become healthy.
    pub healthy_within: Duration,
    /// Verify the deployment with the key it made (`cradle run` verifies
    /// in a step of its own).
    pub verify: bool,
}

impl DeployOptions {
    pub fn new(workspace: &Path) -> DeployOptions {
        DeployOptions {
            workspace: workspace.to_path_buf(),
            port: None,
            out_dir: None,
            binary: None,
            healthy_within: Duration::from_secs(120),
            verify: true,
        }
    }
}

/// Told as the phases go.
pub trait DeployProgress: Progress {
    fn phase_started(&self, phase: &str) {
        let _ = phase;
    }

    fn phase_done(&self, phase: &Phase) {
        let _ = phase;
    }
}

/// One phase as it went.
#[derive(Debug, Clone, Serialize)]
pub struct Phase {
    pub name: String,
    pub seconds: f64,
    pub detail: String,
}

/// A deployment that runs.
#[derive(Debug, Clone, Serialize)]
pub struct DeployReport {
    pub url: String,
    pub container: String,
    pub image: String,
    pub digest: String,
    /// The key created for this deployment; shown once.
    pub api_key: String,
    /// How to make further keys (and, with the console UI, the first user).
    pub first_user_command: String,
    /// From `compose up` to healthy.
    pub healthy_ms: f64,
    pub phases: Vec<Phase>,
    /// `None` when verification was not asked for ([`DeployOptions::verify`]).
    pub verify: Option<VerifyReport>,
    /// The container's last log lines when a verification check failed.
    pub logs: Option<String>,
    pub seconds: f64,
}

/// Why a deployment stopped: the phase, the cause, and the container's
/// last log lines when there is a container.
#[derive(Debug, thiserror::Error)]
#[error("deploy failed in phase `{phase}`: {message}{}{}", logs.as_ref().map(|l| format!("\nlast {LOG_LINES} log lines of the container:\n{l}")).unwrap_or_default(), hint.as_ref().map(|h| format!("\nhint: {h}")).unwrap_or_default())]
pub struct DeployError {
    pub phase: String,
    pub message: String,
    pub hint: Option<String>,
    pub logs: Option<String>,
    /// Trying again may succeed (the container was still starting when
    /// the time was up); everything else needs a fix first.
    pub transient: bool,
}

impl DeployError {
    fn new(phase: &str, error: &dyn std::error::Error) -> DeployError {
        let (message, hint) = describe(error);
        DeployError {
            phase: phase.to_owned(),
            message,
            hint,
            logs: None,
            transient: false,
        }
    }

    fn with_logs(mut self, docker: &Docker, container: &str) -> DeployError {
        self.logs = Some(docker.logs(container, LOG_LINES));
        self
    }
}

struct Phases<'a> {
    progress: &'a dyn DeployProgress,
    done: Vec<Phase>,
}

impl Phases<'_> {
    fn run<T>(
        &mut self,
        name: &str,
        work: impl FnOnce() -> Result<(T, String), DeployError>,
    ) -> Result<T, DeployError> {
        self.progress.phase_started(name);
        let started = Instant::now();
        let (value, detail) = work()?;
        let phase = Phase {
            name: name.to_owned(),
            seconds: started.elapsed().as_secs_f64(),
            detail,
        };
        self.progress.phase_done(&phase);
        self.done.push(phase);
        Ok(value)
    }
}

/// The command that makes the first console user of a deployment: the
/// running image's own `cradle user add`, which prints a one-time sign-in
/// link to `url` (the console's address as the user reaches it).
pub fn first_user_command(container: &str, url: &str) -> String {
    format!(
        "docker exec {container} cradle user add --workspace /data --state /state --email <you@example.com> --role customer_admin --url {url}"
    )
}

/// Deploys the workspace of `options`.
pub fn deploy(
    options: &DeployOptions,
    progress: &dyn DeployProgress,
) -> Result<DeployReport, DeployError> {
    let started = Instant::now();
    let workspace = Workspace::new(&options.workspace);
    let out_dir = options
        .out_dir
        .clone()
        .unwrap_or_else(|| workspace.root().join("image"));
    let mut phases = Phases {
        progress,
        done: Vec::new(),
    };

    let docker = phases.run("engine", || {
        let docker = Docker::connect().map_err(|e| DeployError::new("engine", &e))?;
        let detail = format!("Docker {}", docker.version);
        Ok((docker, detail))
    })?;

    phases.run("validate", || {
        let validation = validate(workspace.root());
        if !validation.ok {
            let problems: Vec<String> = validation
                .checks
                .iter()
                .filter(|c| c.status == Status::Error)
                .map(|c| {
                    format!(
                        "{}: {}{}",
                        c.name,
                        c.detail,
                        c.fix
                            .as_ref()
                            .map(|f| format!(" (fix: {f})"))
                            .unwrap_or_default()
                    )
                })
                .collect();
            return Err(DeployError {
                phase: "validate".into(),
                message: problems.join("; "),
                hint: Some(format!(
                    "`cradle validate --workspace {}` lists every problem with its fix",
                    workspace.root().display()
                )),
                logs: None,
                transient: false,
            });
        }
        Ok(((), format!("{} warnings", validation.warnings)))
    })?;

    let build_options = BuildOptions {
        out_dir: out_dir.clone(),
        tag: None,
        binary: options.binary.clone(),
        source_date_epoch: cradle_image::source_date_epoch_from_env()
            .map_err(|e| DeployError::new("build", &e))?,
    };
    let build = phases.run("build", || {
        let plan = cradle_image::plan(&workspace, &build_options)
            .map_err(|e| DeployError::new("build", &e))?;
        if let Some(report) = up_to_date(&out_dir, &plan.inputs) {
            let detail = format!("up to date ({})", report.digest);
            return Ok((report, detail));
        }
        let report = cradle_image::write(&plan, progress, Instant::now())
            .map_err(|e| DeployError::new("build", &e))?;
        let detail = format!(
            "{} ({:.1} MB in {:.1} s)",
            report.digest,
            report.size as f64 / 1e6,
            report.seconds
        );
        Ok((report, detail))
    })?;

    phases.run("load", || {
        if docker.image_id(&build.tag).as_deref() == Some(build.config_digest.as_str()) {
            return Ok(((), format!("{} is loaded", build.tag)));
        }
        docker
            .load(&build.image)
            .map_err(|e| DeployError::new("load", &e))?;
        Ok(((), format!("loaded {}", build.tag)))
    })?;

    let settings = Settings::resolve(&workspace).map_err(|e| DeployError::new("up", &e))?;
    let container = settings.deployment_name().to_owned();
    let port = options.port.unwrap_or(build.port);
    let up_started = Instant::now();
    phases.run("up", || {
        docker
            .up(&build.compose, &container, port)
            .map_err(|e| DeployError::new("up", &e))?;
        Ok(((), format!("container {container} on port {port}")))
    })?;

    phases.run("healthy", || {
        let deadline = up_started + options.healthy_within;
        loop {
            let (state, health) = docker
                .status(&container)
                .map_err(|e| DeployError::new("healthy", &e).with_logs(&docker, &container))?;
            if health == "healthy" {
                return Ok(((), format!("{container} healthy")));
            }
            let failed = state == "exited" || state == "dead" || health == "unhealthy";
            if failed || Instant::now() > deadline {
                return Err(DeployError {
                    phase: "healthy".into(),
                    message: if failed {
                        format!("the container {container} is {state}, health {health}")
                    } else {
                        format!(
                            "the container {container} was not healthy within {} s (state {state}, health {health})",
                            options.healthy_within.as_secs()
                        )
                    },
                    hint: Some(format!("`docker logs {container}` shows the whole log")),
                    logs: None,
                    // Still starting: a second wait may see it healthy.
                    transient: !failed,
                }
                .with_logs(&docker, &container));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    })?;
    let healthy_ms = up_started.elapsed().as_secs_f64() * 1000.0;

    let api_key = phases.run("api key", || {
        let (key, name) = create_api_key(&docker, &container)
            .map_err(|e| DeployError::new("api key", &e).with_logs(&docker, &container))?;
        Ok((key, format!("created the key {name}")))
    })?;

    let url = format!("http://127.0.0.1:{port}");
    let verified = if options.verify {
        Some(phases.run("verify", || {
            let mut verify_options = VerifyOptions::new(&url, workspace.root());
            verify_options.api_key = Some(api_key.clone());
            let report = verify(&verify_options).map_err(|e| DeployError::new("verify", &e))?;
            let detail = format!("{} passed, {} failed", report.passed, report.failed);
            Ok((report, detail))
        })?)
    } else {
        None
    };
    let logs = verified
        .as_ref()
        .is_some_and(|v| !v.all_passed())
        .then(|| docker.logs(&container, LOG_LINES));

    Ok(DeployReport {
        first_user_command: first_user_command(&container, &url),
        url,
        container,
        image: build.tag.clone(),
        digest: build.digest.clone(),
        api_key,
        healthy_ms,
        phases: phases.done,
        verify: verified,
        logs,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Creates an API key inside the deployment's state with the image's own
/// `cradle api-key create`; the key (shown once) and its name.
pub fn create_api_key(
    docker: &Docker,
    container: &str,
) -> Result<(String, String), crate::docker::DockerError> {
    let name = format!(
        "deploy-{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    );
    let key = docker
        .exec(
            container,
            &[
                "cradle",
                "api-key",
                "create",
                "--workspace",
                "/data",
                "--state",
                "/state",
                "--name",
                &name,
            ],
        )?
        .trim()
        .to_owned();
    Ok((key, name))
}

/// The build in `out_dir` if it was made from exactly these inputs and
/// its archive is whole.
fn up_to_date(out_dir: &Path, inputs: &str) -> Option<BuildReport> {
    let report = BuildReport::read(&out_dir.join(BUILD_FILE)).ok()?;
    let size = std::fs::metadata(&report.image).ok()?.len();
    (report.inputs == inputs && size == report.size).then_some(report)
}
