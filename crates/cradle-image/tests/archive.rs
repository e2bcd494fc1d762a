//! Images of a small synthetic workspace, read back with the tar reader:
//! the archive's structure (OCI layout and Docker's manifest naming the
//! same blobs, DiffIDs of the uncompressed layers), reproducibility (the
//! same digest whatever the files' times and modes on disk, and a
//! different build time does not touch a layer), and which layers a change
//! touches. The executable is a stand-in ELF for another machine, so the
//! build does not run it; Docker, skopeo and umoci read real images in
//! `crates/cradle/tests/image.rs`.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::path::Path;

use cradle_fs::Workspace;
use cradle_image::{BuildOptions, BuildReport, NoProgress};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// A statically linked arm64 executable header: enough for the checks, and
/// never run on an amd64 machine (nor on an arm64 one: see `inspect`).
fn stand_in_executable(path: &Path) {
    let mut bytes = vec![0u8; 64 + 56 + 1000];
    bytes[..4].copy_from_slice(b"\x7fELF");
    bytes[4] = 2;
    bytes[5] = 1;
    bytes[16..18].copy_from_slice(&2u16.to_le_bytes());
    let machine: u16 = if std::env::consts::ARCH == "aarch64" {
        62
    } else {
        183
    };
    bytes[18..20].copy_from_slice(&machine.to_le_bytes());
    bytes[32..40].copy_from_slice(&64u64.to_le_bytes());
    bytes[54..56].copy_from_slice(&56u16.to_le_bytes());
    bytes[56..58].copy_from_slice(&1u16.to_le_bytes());
    bytes[64..68].copy_from_slice(&1u32.to_le_bytes());
    std::fs::write(path, bytes).unwrap();
}

fn write(path: &Path, bytes: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

/// A workspace as `cradle ingest` and `cradle index` leave it, as far as
/// the image builder reads it (it copies files, it does not parse them).
fn workspace(root: &Path, customer: &str) -> Workspace {
    let workspace = Workspace::new(root);
    write(
        &workspace
            .lakehouse_dir()
            .join("_cradle/deliveries/0000000001.json"),
        json!({"delivery": 1, "tables": {"products": 0}, "customer": customer, "committed_at": "2026-11-30T10:00:00Z"})
            .to_string()
            .as_bytes(),
    );
    write(
        &workspace.reports_dir().join("ingest.json"),
        json!({"customer": customer, "delivery": 1, "products": 3, "files": [
            {"path": "b.csv", "sha256": "22"}, {"path": "a.xlsx", "sha256": "11"}
        ]})
        .to_string()
        .as_bytes(),
    );
    let search = workspace.search_index_dir();
    for (name, size) in [
        ("meta.json", 100),
        ("0a.idx", 70_000),
        ("0a.store", 300_000),
        ("0b.idx", 5),
    ] {
        write(&search.join(name), &vec![b'x'; size]);
    }
    let catalog: Vec<u8> = (0..500_000u32).flat_map(|i| i.to_le_bytes()).collect();
    write(&workspace.catalog_file(), &catalog);
    workspace
}

fn build(root: &Path, out: &Path, binary: &Path, epoch: Option<u64>) -> BuildReport {
    let options = BuildOptions {
        out_dir: out.to_path_buf(),
        tag: None,
        binary: Some(binary.to_path_buf()),
        source_date_epoch: epoch,
    };
    cradle_image::build(&Workspace::new(root), &options, &NoProgress).unwrap()
}

/// Every entry of the archive: path to bytes.
fn entries(archive: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut tar = tar::Archive::new(File::open(archive).unwrap());
    let mut out = BTreeMap::new();
    for entry in tar.entries().unwrap() {
        let mut entry = entry.unwrap();
        let path = entry.path().unwrap().display().to_string();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).unwrap();
        assert!(out.insert(path.clone(), bytes).is_none(), "{path} twice");
    }
    out
}

fn sha256(bytes: &[u8]) -> String {
    format!(
        "sha256:{}",
        Sha256::digest(bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    )
}

fn blob<'a>(entries: &'a BTreeMap<String, Vec<u8>>, digest: &str) -> &'a [u8] {
    let path = format!("blobs/{}", digest.replacen(':', "/", 1));
    let bytes = entries.get(&path).unwrap_or_else(|| panic!("no {path}"));
    assert_eq!(sha256(bytes), digest, "the blob's name is its digest");
    bytes
}

/// A layer entry: path, mode, owner, modification time.
type LayerEntry = (String, u32, u64, u64);

fn layer_entries(gzip: &[u8]) -> (Vec<LayerEntry>, Vec<u8>) {
    let mut tar_bytes = Vec::new();
    flate2::read::GzDecoder::new(gzip)
        .read_to_end(&mut tar_bytes)
        .unwrap();
    let mut archive = tar::Archive::new(&tar_bytes[..]);
    let entries = archive
        .entries()
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let h = e.header();
            (
                e.path().unwrap().display().to_string(),
                h.mode().unwrap(),
                h.uid().unwrap(),
                h.mtime().unwrap(),
            )
        })
        .collect();
    (entries, tar_bytes)
}

#[test]
fn the_archive_holds_an_oci_layout_and_dockers_manifest_of_the_same_blobs() {
    let dir = tempfile::tempdir().unwrap();
    let binary = dir.path().join("cradle");
    stand_in_executable(&binary);
    let root = dir.path().join("ws");
    workspace(&root, "acme");
    let out = dir.path().join("out");
    let report = build(&root, &out, &binary, None);
    let entries = entries(&out.join("image.tar"));
    assert_eq!(
        report.size,
        std::fs::metadata(out.join("image.tar")).unwrap().len()
    );

    let layout: Value = serde_json::from_slice(&entries["oci-layout"]).unwrap();
    assert_eq!(layout, json!({"imageLayoutVersion": "1.0.0"}));
    let index: Value = serde_json::from_slice(&entries["index.json"]).unwrap();
    let described = &index["manifests"][0];
    assert_eq!(described["digest"], report.digest);
    assert_eq!(
        described["annotations"]["org.opencontainers.image.ref.name"],
        "1"
    );
    assert_eq!(
        described["annotations"]["io.containerd.image.name"],
        "docker.io/library/cradle-acme:1"
    );
    let manifest: Value = serde_json::from_slice(blob(&entries, &report.digest)).unwrap();
    let config_digest = manifest["config"]["digest"].as_str().unwrap();
    assert_eq!(config_digest, report.config_digest);
    let config: Value = serde_json::from_slice(blob(&entries, config_digest)).unwrap();

    // Docker's manifest names the same config and layers.
    let docker: Value = serde_json::from_slice(&entries["manifest.json"]).unwrap();
    assert_eq!(docker[0]["RepoTags"], json!(["cradle-acme:1"]));
    assert_eq!(
        docker[0]["Config"],
        format!("blobs/{}", config_digest.replacen(':', "/", 1))
    );
    let layers = manifest["layers"].as_array().unwrap();
    assert_eq!(docker[0]["Layers"].as_array().unwrap().len(), layers.len());
    assert_eq!(layers.len(), report.layers.len());

    // Each layer: named by the digest of its gzip, listed in the config by
    // the digest of its tar; every entry owned by root (but /state), dated 0.
    let diff_ids = config["rootfs"]["diff_ids"].as_array().unwrap();
    let mut all = BTreeMap::new();
    for (i, layer) in layers.iter().enumerate() {
        let digest = layer["digest"].as_str().unwrap();
        assert_eq!(
            layer["mediaType"],
            "application/vnd.oci.image.layer.v1.tar+gzip"
        );
        let gzip = blob(&entries, digest);
        assert_eq!(layer["size"], gzip.len());
        let (files, tar_bytes) = layer_entries(gzip);
        assert_eq!(diff_ids[i], sha256(&tar_bytes));
        assert_eq!(report.layers[i].diff_id, sha256(&tar_bytes));
        for (path, mode, uid, mtime) in files {
            assert_eq!(mtime, 0, "{path}");
            assert_eq!(uid, if path == "state/" { 65532 } else { 0 }, "{path}");
            all.insert(path, (mode, i));
        }
    }
    let names: Vec<&str> = report.layers.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["base", "binary", "search", "catalog", "metadata"]);
    assert_eq!(all["usr/local/bin/cradle"], (0o755, 1));
    assert_eq!(all["etc/ssl/certs/ca-certificates.crt"].1, 0);
    assert_eq!(all["tmp/"].0, 0o1777);
    assert_eq!(all["state/"].0, 0o700);
    assert_eq!(all["data/index/catalog.db"], (0o644, 3));
    assert_eq!(all["data/reports/ingest.json"].1, 4);
    // The lakehouse is not read by the server, and not carried.
    assert!(!all.keys().any(|p| p.contains("lakehouse")));

    // How the container runs.
    let run = &config["config"];
    assert_eq!(run["User"], "65532:65532");
    assert_eq!(run["ExposedPorts"], json!({"9314/tcp": {}}));
    assert_eq!(run["Volumes"], json!({"/state": {}}));
    assert_eq!(run["Entrypoint"][0], "/usr/local/bin/cradle");
    assert_eq!(run["Entrypoint"][1], "serve");
    assert_eq!(
        run["Healthcheck"]["Test"],
        json!([
            "CMD",
            "/usr/local/bin/cradle",
            "health",
            "http://127.0.0.1:9314"
        ])
    );
    assert_eq!(run["Labels"]["cradle.customer"], "acme");
    assert_eq!(run["Labels"]["cradle.delivery"], "1");
    assert_eq!(
        run["Labels"]["cradle.sources"],
        r#"{"a.xlsx":"sha256:11","b.csv":"sha256:22"}"#
    );
    assert_eq!(config["created"], "2026-11-30T10:00:00Z");
    // History says what each layer holds, and nothing of the build.
    for entry in config["history"].as_array().unwrap() {
        assert_eq!(entry["created"], "2026-11-30T10:00:00Z");
        assert!(
            entry["created_by"]
                .as_str()
                .unwrap()
                .starts_with("cradle build: ")
        );
    }
    // The config is canonical: its bytes are those of its sorted form.
    let config_bytes = blob(&entries, config_digest);
    assert!(!config_bytes.contains(&b'\n'));

    // Beside the image.
    let compose = std::fs::read_to_string(out.join("compose.yaml")).unwrap();
    assert!(compose.contains("image: cradle-acme:1"), "{compose}");
    assert!(
        compose.contains("\"${CRADLE_PORT:-9314}:9314\""),
        "{compose}"
    );
    for file in ["k8s/deployment.yaml", "k8s/service.yaml", "k8s/state.yaml"] {
        let text = std::fs::read_to_string(out.join(file)).unwrap();
        assert!(!text.contains("{{"), "{file}: {text}");
        assert!(text.contains("cradle-acme"), "{file}");
    }
    let written: BuildReport =
        serde_json::from_slice(&std::fs::read(out.join("build.json")).unwrap()).unwrap();
    assert_eq!(written.digest, report.digest);
    assert_eq!(
        written.data_size,
        100 + 70_000
            + 300_000
            + 5
            + 2_000_000
            + std::fs::metadata(root.join("reports/ingest.json"))
                .unwrap()
                .len()
    );
}

#[test]
fn equal_inputs_give_equal_bytes_whatever_the_disk_says() {
    let dir = tempfile::tempdir().unwrap();
    let binary = dir.path().join("cradle");
    stand_in_executable(&binary);
    let root = dir.path().join("ws");
    let ws = workspace(&root, "acme");
    let first = build(&root, &dir.path().join("one"), &binary, None);

    // Other times and modes on disk change nothing.
    use std::os::unix::fs::PermissionsExt;
    for path in [ws.catalog_file(), ws.search_index_dir().join("0a.idx")] {
        let file = File::options().write(true).open(&path).unwrap();
        file.set_modified(std::time::SystemTime::now()).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let second = build(&root, &dir.path().join("two"), &binary, None);
    assert_eq!(first.digest, second.digest);
    let bytes = |out: &str| sha256(&std::fs::read(dir.path().join(out).join("image.tar")).unwrap());
    assert_eq!(bytes("one"), bytes("two"));
    assert_ne!(
        first.inputs, second.inputs,
        "the inputs' digest sees the new times"
    );

    // Another creation time changes the config, never a layer.
    let dated = build(
        &root,
        &dir.path().join("three"),
        &binary,
        Some(1_800_000_000),
    );
    assert_ne!(dated.digest, first.digest);
    let digests = |r: &BuildReport| {
        r.layers
            .iter()
            .map(|l| l.digest.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(digests(&dated), digests(&first));
}

#[test]
fn a_new_delivery_changes_only_the_data_layers_it_touches() {
    let dir = tempfile::tempdir().unwrap();
    let binary = dir.path().join("cradle");
    stand_in_executable(&binary);
    let acme = dir.path().join("acme");
    let ws = workspace(&acme, "acme");
    let before = build(&acme, &dir.path().join("before"), &binary, None);

    // Another customer built by the same cradle: the same base and binary.
    let other = dir.path().join("other");
    workspace(&other, "other");
    let theirs = build(&other, &dir.path().join("theirs"), &binary, None);
    assert_eq!(before.layers[..2], theirs.layers[..2]);

    // A new catalog and reports: the search layer stays.
    write(&ws.catalog_file(), b"another catalog");
    write(&ws.reports_dir().join("index.json"), b"{}");
    let after = build(&acme, &dir.path().join("after"), &binary, None);
    let by_name = |r: &BuildReport| -> BTreeMap<String, String> {
        r.layers
            .iter()
            .map(|l| (l.name.clone(), l.digest.clone()))
            .collect()
    };
    let (old, new) = (by_name(&before), by_name(&after));
    for same in ["base", "binary", "search"] {
        assert_eq!(old[same], new[same], "{same}");
    }
    for changed in ["catalog", "metadata"] {
        assert_ne!(old[changed], new[changed], "{changed}");
    }
}

#[test]
fn large_data_is_split_into_layers_at_file_boundaries() {
    let dir = tempfile::tempdir().unwrap();
    let binary = dir.path().join("cradle");
    stand_in_executable(&binary);
    let root = dir.path().join("ws");
    let ws = workspace(&root, "acme");
    // Three segment files of 100 MiB (sparse): more than one layer's worth.
    for name in ["1.store", "2.store", "3.store"] {
        let file = File::create(ws.search_index_dir().join(name)).unwrap();
        file.set_len(100 << 20).unwrap();
    }
    let report = build(&root, &dir.path().join("out"), &binary, None);
    let search: Vec<(&str, u64)> = report
        .layers
        .iter()
        .filter(|l| l.name.starts_with("search"))
        .map(|l| (l.name.as_str(), l.content_size))
        .collect();
    assert_eq!(search.len(), 2, "{search:?}");
    assert!(
        search.iter().all(|(_, size)| *size <= 256 << 20),
        "{search:?}"
    );
    assert_eq!(search[0].0, "search 1/2");
}

#[test]
fn what_is_missing_is_named_with_the_command_that_makes_it() {
    let dir = tempfile::tempdir().unwrap();
    let binary = dir.path().join("cradle");
    stand_in_executable(&binary);
    let root = dir.path().join("ws");
    let ws = workspace(&root, "acme");
    std::fs::remove_file(ws.catalog_file()).unwrap();
    let options = BuildOptions {
        out_dir: dir.path().join("out"),
        binary: Some(binary.clone()),
        ..BuildOptions::default()
    };
    let error = cradle_image::build(&ws, &options, &NoProgress)
        .unwrap_err()
        .to_string();
    assert!(error.contains("the product catalog is missing"), "{error}");
    assert!(
        error.contains(&format!("cradle index --workspace {}", root.display())),
        "{error}"
    );

    // A dynamically linked executable is refused with the way to a static one.
    let options = BuildOptions {
        binary: Some(std::env::current_exe().unwrap()),
        ..options
    };
    workspace(&root, "acme");
    let error = cradle_image::build(&ws, &options, &NoProgress)
        .unwrap_err()
        .to_string();
    assert!(error.contains("dynamically linked"), "{error}");
    assert!(error.contains("bash scripts/static.sh"), "{error}");
}
