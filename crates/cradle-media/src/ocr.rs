//! Text from images with Tesseract, run as a program (`tesseract IMAGE
//! stdout -l deu+eng`): no C library linked into cradle, the Debian package
//! does the work, and a stuck run is killed after a timeout.

use crate::ImageFormat;
use crate::error::MediaError;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// How long one image may take by default.
pub const OCR_TIMEOUT: Duration = Duration::from_secs(60);
/// The largest image handed to Tesseract, in bytes.
pub const MAX_IMAGE_BYTES: u64 = 32 << 20;
/// How long `--version` and `--list-langs` may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(20);

/// A Tesseract installation found to work, with the languages to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ocr {
    program: PathBuf,
    languages: String,
    version: String,
    timeout: Duration,
}

impl Ocr {
    /// Checks that `program` (a path, or a name looked up on `PATH`, usually
    /// `tesseract`) runs and has every language of `languages` (`deu+eng`).
    /// The error names the Debian packages to install.
    pub fn detect(program: impl AsRef<Path>, languages: &str) -> Result<Ocr, MediaError> {
        let program = program.as_ref().to_path_buf();
        let wanted: Vec<&str> = languages.split('+').collect();
        if wanted
            .iter()
            .any(|l| l.is_empty() || !l.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        {
            return Err(MediaError::InvalidLanguages {
                languages: languages.to_owned(),
            });
        }
        let version = probe(&program, "--version")?;
        // Tesseract 4 printed its version on stderr, 5 on stdout.
        let version = version.lines().next().unwrap_or_default().trim().to_owned();
        let listed = probe(&program, "--list-langs")?;
        // The first line is a heading ("List of available languages in ...").
        let available: Vec<&str> = listed
            .lines()
            .skip(1)
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        for language in wanted {
            if !available.contains(&language) {
                return Err(MediaError::TesseractLanguageMissing {
                    program,
                    language: language.to_owned(),
                    available: available.join(", "),
                });
            }
        }
        Ok(Ocr {
            program,
            languages: languages.to_owned(),
            version,
            timeout: OCR_TIMEOUT,
        })
    }

    /// The same installation with another time limit per image.
    pub fn with_timeout(mut self, timeout: Duration) -> Ocr {
        self.timeout = timeout;
        self
    }

    /// The first line of `tesseract --version`, e.g. `tesseract 5.3.0`.
    pub fn version(&self) -> &str {
        &self.version
    }

    pub fn languages(&self) -> &str {
        &self.languages
    }

    /// The text Tesseract reads in the PNG, JPEG or TIFF image at `path`;
    /// empty when it finds none.
    pub fn image_text(&self, path: &Path) -> Result<String, MediaError> {
        let head = crate::read_head(path, MAX_IMAGE_BYTES)?;
        if ImageFormat::from_bytes(&head).is_none() {
            return Err(MediaError::UnsupportedImage {
                path: path.to_path_buf(),
            });
        }
        // A file name starting with `-` would be read as an option.
        let image = if path.is_relative() {
            Path::new(".").join(path)
        } else {
            path.to_path_buf()
        };
        let mut command = Command::new(&self.program);
        command
            .arg(&image)
            .arg("stdout")
            .args(["-l", &self.languages, "--psm", "3"])
            // One thread per run: enrich runs several images at once, and
            // OpenMP's threads only fight over the same cores.
            .env("OMP_THREAD_LIMIT", "1");
        let arguments = format!("{} stdout -l {} --psm 3", image.display(), self.languages);
        let output = match run(command, self.timeout) {
            Ok(output) => output,
            Err(RunError::Spawn(source)) => {
                return Err(MediaError::TesseractMissing {
                    program: self.program.clone(),
                    source,
                });
            }
            Err(RunError::TimedOut) => {
                return Err(MediaError::OcrTimedOut {
                    path: path.to_path_buf(),
                    limit: self.timeout,
                });
            }
        };
        if !output.status.success() {
            return Err(MediaError::TesseractFailed {
                program: self.program.clone(),
                arguments,
                status: output.status.to_string(),
                stderr: excerpt(&output.stderr),
            });
        }
        Ok(tidy(&String::from_utf8_lossy(&output.stdout)))
    }
}

/// Runs `program ARGUMENT` and returns what it printed (stdout, or stderr
/// when stdout is empty).
fn probe(program: &Path, argument: &str) -> Result<String, MediaError> {
    let mut command = Command::new(program);
    command.arg(argument);
    let output = match run(command, PROBE_TIMEOUT) {
        Ok(output) => output,
        Err(RunError::Spawn(source)) => {
            return Err(MediaError::TesseractMissing {
                program: program.to_path_buf(),
                source,
            });
        }
        Err(RunError::TimedOut) => {
            return Err(MediaError::TesseractFailed {
                program: program.to_path_buf(),
                arguments: argument.to_owned(),
                status: format!("no answer within {PROBE_TIMEOUT:?}"),
                stderr: String::new(),
            });
        }
    };
    if !output.status.success() {
        return Err(MediaError::TesseractFailed {
            program: program.to_path_buf(),
            arguments: argument.to_owned(),
            status: output.status.to_string(),
            stderr: excerpt(&output.stderr),
        });
    }
    let text = if output.stdout.iter().all(u8::is_ascii_whitespace) {
        &output.stderr
    } else {
        &output.stdout
    };
    Ok(String::from_utf8_lossy(text).into_owned())
}

/// Lines without trailing blanks, no runs of blank lines, no form feed
/// (Tesseract ends every page with one).
fn tidy(text: &str) -> String {
    let mut out = String::new();
    let mut blank = false;
    for line in text.lines() {
        let line = line.trim_end().trim_matches('\u{c}');
        if line.trim().is_empty() {
            blank = !out.is_empty();
            continue;
        }
        if blank {
            out.push('\n');
            blank = false;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// The end of a program's error output, short enough for a message.
fn excerpt(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim();
    let start = text
        .char_indices()
        .rev()
        .nth(499)
        .map_or(0, |(index, _)| index);
    text[start..].replace('\n', " | ")
}

pub(crate) struct Output {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

pub(crate) enum RunError {
    Spawn(std::io::Error),
    TimedOut,
}

/// Runs `command` to its end or until `timeout`, then kills it. Its output
/// is read on two threads so that a full pipe never stalls it.
pub(crate) fn run(mut command: Command, timeout: Duration) -> Result<Output, RunError> {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(RunError::Spawn)?;
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                // Bounded: a runaway program cannot fill memory.
                let _ = pipe.by_ref().take(64 << 20).read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let stdout = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let stderr = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if started.elapsed() < timeout => {
                std::thread::sleep(Duration::from_millis(10));
            }
            Ok(None) | Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
        }
    };
    match status {
        Some(status) => Ok(Output {
            status,
            stdout: stdout.join().unwrap_or_default(),
            stderr: stderr.join().unwrap_or_default(),
        }),
        // Not joined: a child of the killed program may still hold the
        // pipes open; the readers end when it does.
        None => Err(RunError::TimedOut),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tidy_drops_form_feeds_and_blank_runs() {
        assert_eq!(tidy("a  \n\n\n b\n\u{c}"), "a\n\n b\n");
        assert_eq!(tidy("\n\nx\n"), "x\n");
        assert_eq!(tidy(""), "");
    }

    #[test]
    fn a_slow_program_is_stopped() {
        let mut command = Command::new("sleep");
        command.arg("5");
        let started = Instant::now();
        assert!(matches!(
            run(command, Duration::from_millis(200)),
            Err(RunError::TimedOut)
        ));
        assert!(started.elapsed() < Duration::from_secs(3));
    }

    #[test]
    fn languages_are_checked_before_running_anything() {
        for languages in ["", "deu+", "deu eng", "../x"] {
            assert!(matches!(
                Ocr::detect("/nonexistent/tesseract", languages),
                Err(MediaError::InvalidLanguages { .. })
            ));
        }
    }
}
