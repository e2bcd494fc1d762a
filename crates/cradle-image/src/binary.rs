//! The `cradle` executable an image carries. The image has no C library
//! (`FROM scratch`), so the executable must be statically linked: an ELF
//! file without a program interpreter (`PT_INTERP`). A static glibc build
//! is no answer either: glibc resolves host names through NSS modules it
//! loads at run time, so DNS (a compose service name) fails in the image;
//! musl's resolver reads `/etc/resolv.conf` itself. `scripts/static.sh`
//! builds the musl executable.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::ImageError;

/// The command that builds a static cradle, for error hints.
pub const STATIC_BUILD_HINT: &str = "bash scripts/static.sh";

/// The environment variable that may name a static cradle when the running
/// one is not static and no path was given.
pub const STATIC_BINARY_ENV: &str = "CRADLE_STATIC_BINARY";

/// A statically linked cradle, checked.
#[derive(Debug, Clone)]
pub struct StaticBinary {
    pub path: PathBuf,
    /// The image architecture it runs on (`amd64`, `arm64`).
    pub architecture: &'static str,
    pub size: u64,
    pub sha256: String,
    /// What `cradle --version` printed (e.g. `cradle 0.1.0`), or the version
    /// of the running cradle when the executable is for another machine.
    pub version: String,
}

/// The executable to put in the image: `explicit` if given, else the
/// running cradle if it is static, else the one `CRADLE_STATIC_BINARY`
/// names. Each is checked to be a static Linux executable.
pub fn find_static_binary(explicit: Option<&Path>) -> Result<StaticBinary, ImageError> {
    if let Some(path) = explicit {
        return inspect(path);
    }
    let running = std::env::current_exe().map_err(|source| ImageError::Read {
        path: PathBuf::from("/proc/self/exe"),
        source,
    })?;
    match inspect(&running) {
        Ok(binary) => Ok(binary),
        Err(ImageError::NotStatic { .. }) => match std::env::var_os(STATIC_BINARY_ENV) {
            Some(path) if !path.is_empty() => inspect(Path::new(&path)),
            _ => Err(ImageError::RunningNotStatic { path: running }),
        },
        Err(other) => Err(other),
    }
}

/// Checks that `path` is a static ELF executable and reads what the image
/// records of it.
pub fn inspect(path: &Path) -> Result<StaticBinary, ImageError> {
    let read = |source| ImageError::Read {
        path: path.to_path_buf(),
        source,
    };
    let not_static = |why: String| ImageError::NotStatic {
        path: path.to_path_buf(),
        why,
    };
    let mut file = std::fs::File::open(path).map_err(read)?;
    let size = file.metadata().map_err(read)?.len();
    // The headers come first; 64 KiB hold them in any executable a linker
    // writes (the interpreter name is read from where it points).
    let mut head = Vec::new();
    (&mut file)
        .take(64 * 1024)
        .read_to_end(&mut head)
        .map_err(read)?;
    let elf = Elf::parse(&head).map_err(not_static)?;
    if let Some(interpreter) = elf.interpreter {
        return Err(not_static(format!(
            "it is dynamically linked (interpreter {interpreter})"
        )));
    }
    let sha256 = sha256_file(path)?;
    let version = if elf.architecture == host_architecture() {
        run_version(path)?
    } else {
        format!("cradle {}", env!("CARGO_PKG_VERSION"))
    };
    Ok(StaticBinary {
        path: path.to_path_buf(),
        architecture: elf.architecture,
        size,
        sha256,
        version,
    })
}

/// The image architecture of the machine this runs on.
fn host_architecture() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}

/// `<path> --version`, with a time limit: also proves the file runs.
fn run_version(path: &Path) -> Result<String, ImageError> {
    let failed = |why: String| ImageError::BinaryVersion {
        path: path.to_path_buf(),
        why,
    };
    let mut child = Command::new(path)
        .arg("--version")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| failed(e.to_string()))?;
    let started = std::time::Instant::now();
    loop {
        match child.try_wait().map_err(|e| failed(e.to_string()))? {
            Some(status) if status.success() => break,
            Some(status) => return Err(failed(format!("it exited with {status}"))),
            None if started.elapsed() > Duration::from_secs(10) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(failed("it did not answer within 10 s".into()));
            }
            None => std::thread::sleep(Duration::from_millis(10)),
        }
    }
    let mut output = String::new();
    if let Some(mut stdout) = child.stdout.take() {
        stdout
            .read_to_string(&mut output)
            .map_err(|e| failed(e.to_string()))?;
    }
    let version = output.trim().to_owned();
    if !version.starts_with("cradle ") {
        return Err(failed(format!(
            "it printed {version:?}, not `cradle <version>`"
        )));
    }
    Ok(version)
}

/// What the image needs to know of an ELF file.
#[derive(Debug)]
struct Elf {
    architecture: &'static str,
    /// The program interpreter (`PT_INTERP`), present in dynamically linked
    /// executables only.
    interpreter: Option<String>,
}

impl Elf {
    /// Reads the ELF header and the program headers of a 64-bit
    /// little-endian executable.
    fn parse(bytes: &[u8]) -> Result<Elf, String> {
        const PT_INTERP: u32 = 3;
        const ET_EXEC: u16 = 2;
        const ET_DYN: u16 = 3;
        if bytes.len() < 64 || &bytes[..4] != b"\x7fELF" {
            return Err("it is not an ELF executable".into());
        }
        if bytes[4] != 2 || bytes[5] != 1 {
            return Err("it is not a 64-bit little-endian ELF file".into());
        }
        let u16_at = |at: usize| -> Result<u16, String> {
            bytes
                .get(at..at + 2)
                .map(|b| u16::from_le_bytes([b[0], b[1]]))
                .ok_or_else(|| "its ELF header is truncated".to_owned())
        };
        let u32_at = |at: usize| -> Result<u32, String> {
            bytes
                .get(at..at + 4)
                .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .ok_or_else(|| "its program headers are truncated".to_owned())
        };
        let u64_at = |at: usize| -> Result<u64, String> {
            bytes
                .get(at..at + 8)
                .map(|b| u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
                .ok_or_else(|| "its program headers are truncated".to_owned())
        };
        let kind = u16_at(16)?;
        if kind != ET_EXEC && kind != ET_DYN {
            return Err(format!(
                "it is an ELF file of type {kind}, not an executable"
            ));
        }
        let architecture = match u16_at(18)? {
            62 => "amd64",
            183 => "arm64",
            other => return Err(format!("its machine type {other} is not amd64 or arm64")),
        };
        let table = u64_at(32)? as usize;
        let entry_size = u16_at(54)? as usize;
        let entries = u16_at(56)? as usize;
        let mut interpreter = None;
        for i in 0..entries {
            let header = table + i * entry_size;
            if u32_at(header)? != PT_INTERP {
                continue;
            }
            let offset = u64_at(header + 8)? as usize;
            let size = u64_at(header + 32)? as usize;
            let name = bytes
                .get(offset..offset + size)
                .ok_or_else(|| "its interpreter name is truncated".to_owned())?;
            let name = name.split(|&b| b == 0).next().unwrap_or_default();
            interpreter = Some(String::from_utf8_lossy(name).into_owned());
        }
        Ok(Elf {
            architecture,
            interpreter,
        })
    }
}

/// The hex sha256 of a file, read in pieces.
pub fn sha256_file(path: &Path) -> Result<String, ImageError> {
    let read = |source| ImageError::Read {
        path: path.to_path_buf(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(read)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buffer).map_err(read)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Ok(hex(&hasher.finalize()))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dynamically_linked_executable_is_refused_with_its_interpreter() {
        // The test executable itself is linked as the workspace builds it
        // for the host: dynamically, with glibc's interpreter.
        let running = std::env::current_exe().unwrap();
        let bytes = std::fs::read(&running).unwrap();
        let elf = Elf::parse(&bytes[..64 * 1024]).unwrap();
        assert_eq!(elf.architecture, host_architecture());
        if cfg!(target_env = "gnu") {
            let interpreter = elf
                .interpreter
                .expect("a glibc executable has an interpreter");
            assert!(interpreter.contains("ld-linux"), "{interpreter}");
            let error = inspect(&running).unwrap_err().to_string();
            assert!(error.contains("dynamically linked"), "{error}");
            assert!(error.contains(STATIC_BUILD_HINT), "{error}");
        }
    }

    #[test]
    fn a_static_executable_has_no_interpreter() {
        // A minimal ELF64 header with one PT_LOAD program header.
        let mut bytes = vec![0u8; 64 + 56];
        bytes[..4].copy_from_slice(b"\x7fELF");
        bytes[4] = 2;
        bytes[5] = 1;
        bytes[16..18].copy_from_slice(&2u16.to_le_bytes());
        bytes[18..20].copy_from_slice(&62u16.to_le_bytes());
        bytes[32..40].copy_from_slice(&64u64.to_le_bytes());
        bytes[54..56].copy_from_slice(&56u16.to_le_bytes());
        bytes[56..58].copy_from_slice(&1u16.to_le_bytes());
        bytes[64..68].copy_from_slice(&1u32.to_le_bytes());
        let elf = Elf::parse(&bytes).unwrap();
        assert_eq!(elf.architecture, "amd64");
        assert!(elf.interpreter.is_none());
        // With a PT_INTERP it is dynamic.
        bytes[64..68].copy_from_slice(&3u32.to_le_bytes());
        bytes[72..80].copy_from_slice(&0u64.to_le_bytes());
        bytes[96..104].copy_from_slice(&4u64.to_le_bytes());
        assert_eq!(
            Elf::parse(&bytes).unwrap().interpreter.as_deref(),
            Some("\u{7f}ELF")
        );
        assert!(Elf::parse(b"#!/bin/sh\n").is_err());
    }
}
