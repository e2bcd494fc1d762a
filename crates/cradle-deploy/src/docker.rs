//! The local Docker engine, driven through its command-line client (the
//! `docker` program and compose, as an operator would run them), so cradle
//! needs no Docker API client and works with whatever engine version the
//! client talks to.

use std::path::Path;
use std::process::{Command, Output};

/// A failed engine command.
#[derive(Debug, thiserror::Error)]
pub enum DockerError {
    #[error(
        "the Docker engine does not answer ({why})\nhint: start it (`sudo systemctl start docker`) or point DOCKER_HOST at one"
    )]
    NoEngine { why: String },
    #[error(
        "neither `docker compose` nor `docker-compose` is installed\nhint: install the compose plugin or `apt-get install docker-compose`"
    )]
    NoCompose,
    #[error("`{command}` failed: {stderr}")]
    Failed { command: String, stderr: String },
    #[error("cannot run `{command}`")]
    Spawn {
        command: String,
        #[source]
        source: std::io::Error,
    },
}

/// The engine and its compose tool.
#[derive(Debug, Clone)]
pub struct Docker {
    /// `["docker", "compose"]` or `["docker-compose"]`.
    compose: Vec<String>,
    /// The engine's version.
    pub version: String,
}

impl Docker {
    /// Checks that the engine answers and finds compose.
    pub fn connect() -> Result<Docker, DockerError> {
        let version = match run(Command::new("docker").args([
            "version",
            "--format",
            "{{.Server.Version}}",
        ])) {
            Ok(version) => version.trim().to_owned(),
            Err(DockerError::Failed { stderr, .. }) => {
                return Err(DockerError::NoEngine { why: stderr });
            }
            Err(DockerError::Spawn { source, .. }) => {
                return Err(DockerError::NoEngine {
                    why: format!("no `docker` program: {source}"),
                });
            }
            Err(other) => return Err(other),
        };
        let compose = if run(Command::new("docker").args(["compose", "version"])).is_ok() {
            vec!["docker".to_owned(), "compose".to_owned()]
        } else if run(Command::new("docker-compose").arg("version")).is_ok() {
            vec!["docker-compose".to_owned()]
        } else {
            return Err(DockerError::NoCompose);
        };
        Ok(Docker { compose, version })
    }

    /// The id of the image `tag`, if the engine has it.
    pub fn image_id(&self, tag: &str) -> Option<String> {
        run(Command::new("docker").args(["image", "inspect", "--format", "{{.Id}}", tag]))
            .ok()
            .map(|id| id.trim().to_owned())
    }

    /// `docker load -i archive`.
    pub fn load(&self, archive: &Path) -> Result<String, DockerError> {
        run(Command::new("docker").arg("load").arg("-i").arg(archive))
    }

    /// `compose -f file -p project up -d --force-recreate`, with
    /// `CRADLE_PORT` set to the host port.
    pub fn up(
        &self,
        compose_file: &Path,
        project: &str,
        host_port: u16,
    ) -> Result<String, DockerError> {
        let mut command = self.compose_command(compose_file, project);
        command
            .args(["up", "-d", "--force-recreate", "--remove-orphans"])
            .env("CRADLE_PORT", host_port.to_string());
        run(&mut command)
    }

    /// `compose -f file -p project down` (the state volume stays).
    pub fn down(&self, compose_file: &Path, project: &str) -> Result<String, DockerError> {
        let mut command = self.compose_command(compose_file, project);
        command.arg("down");
        run(&mut command)
    }

    fn compose_command(&self, compose_file: &Path, project: &str) -> Command {
        let mut command = Command::new(&self.compose[0]);
        command
            .args(&self.compose[1..])
            .arg("-f")
            .arg(compose_file)
            .args(["-p", project]);
        command
    }

    /// The container's state and health (`running healthy`,
    /// `exited none`, ...).
    pub fn status(&self, container: &str) -> Result<(String, String), DockerError> {
        let text = run(Command::new("docker").args([
            "inspect",
            "--format",
            "{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}",
            container,
        ]))?;
        let mut words = text.split_whitespace().map(str::to_owned);
        Ok((
            words.next().unwrap_or_default(),
            words.next().unwrap_or_default(),
        ))
    }

    /// The id of the image the container runs, if the container exists.
    pub fn container_image(&self, container: &str) -> Option<String> {
        run(Command::new("docker").args(["inspect", "--format", "{{.Image}}", container]))
            .ok()
            .map(|id| id.trim().to_owned())
    }

    /// Runs `args` in the container; its standard output.
    pub fn exec(&self, container: &str, args: &[&str]) -> Result<String, DockerError> {
        run(Command::new("docker").arg("exec").arg(container).args(args))
    }

    /// The container's last `lines` log lines (stdout and stderr).
    pub fn logs(&self, container: &str, lines: usize) -> String {
        match Command::new("docker")
            .args(["logs", "--tail", &lines.to_string(), container])
            .output()
        {
            Ok(output) => format!(
                "{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ),
            Err(error) => format!("(cannot read the logs: {error})"),
        }
    }
}

/// Runs a command; its standard output, or its standard error as the error.
fn run(command: &mut Command) -> Result<String, DockerError> {
    let shown = format!(
        "{} {}",
        command.get_program().to_string_lossy(),
        command
            .get_args()
            .map(|a| a.to_string_lossy())
            .collect::<Vec<_>>()
            .join(" ")
    );
    let output: Output = command.output().map_err(|source| DockerError::Spawn {
        command: shown.clone(),
        source,
    })?;
    if !output.status.success() {
        return Err(DockerError::Failed {
            command: shown,
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        });
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}
