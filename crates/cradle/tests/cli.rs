//! The command line as people see it: `cradle --help` and every
//! subcommand's help, as snapshots. A flag added, renamed or explained
//! differently shows up in review as a diff of `tests/snapshots/`.

mod common;

fn help(args: &[&str]) -> String {
    let output = common::run_ok(args);
    String::from_utf8(output.stdout).expect("help is UTF-8")
}

#[test]
fn help_texts() {
    insta::assert_snapshot!("cradle", help(&["--help"]));
    for command in [
        "demo",
        "demo-data",
        "ingest",
        "enrich",
        "classify",
        "index",
        "serve",
        "mcp",
        "api-key",
        "validate",
        "build",
        "health",
        "verify",
        "deploy",
        "run",
    ] {
        insta::assert_snapshot!(command, help(&[command, "--help"]));
    }
    for command in ["create", "list", "revoke"] {
        insta::assert_snapshot!(
            format!("api-key-{command}"),
            help(&["api-key", command, "--help"])
        );
    }
    insta::assert_snapshot!("user", help(&["user", "--help"]));
    for command in ["add", "list", "disable"] {
        insta::assert_snapshot!(
            format!("user-{command}"),
            help(&["user", command, "--help"])
        );
    }
    insta::assert_snapshot!("model", help(&["model", "--help"]));
    insta::assert_snapshot!("model-distill", help(&["model", "distill", "--help"]));
}
