//! `cradle api-key create|list|revoke --workspace <WS>`: keys for the
//! console's API, stored hashed in the state database.

use anyhow::{Context, Result};
use cradle_fs::Workspace;
use cradle_state::{StateConfig, StateDb};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Create a key; it is printed once and cannot be shown again.
    Create {
        #[arg(long, short)]
        workspace: PathBuf,
        /// The state directory (default `<WS>/state`; an image keeps it in `/state`).
        #[arg(long)]
        state: Option<PathBuf>,
        /// Who or what the key is for (e.g. `erp-sync`, `claude-desktop`).
        #[arg(long)]
        name: String,
    },
    /// List keys (never their secrets).
    List {
        #[arg(long, short)]
        workspace: PathBuf,
        #[arg(long)]
        state: Option<PathBuf>,
    },
    /// Revoke a key by its id.
    Revoke {
        #[arg(long, short)]
        workspace: PathBuf,
        #[arg(long)]
        state: Option<PathBuf>,
        id: String,
    },
}

pub fn run(command: Command) -> Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let open = |workspace: &PathBuf, state: Option<PathBuf>| {
            let dir = state.unwrap_or_else(|| Workspace::new(workspace).state_dir());
            let config = StateConfig::from_env(dir);
            async move { StateDb::open(&config).await.context("cannot open the state database") }
        };
        match command {
            Command::Create {
                workspace,
                state,
                name,
            } => {
                let db = open(&workspace, state).await?;
                let key = db.create_api_key(&name).await?;
                println!("{}", key.plaintext);
                eprintln!(
                    "created API key {} ({}…) named {name:?}; it is shown only now.\nuse it as: Authorization: Bearer <key>",
                    key.id, key.prefix
                );
                db.close().await;
            }
            Command::List { workspace, state } => {
                let db = open(&workspace, state).await?;
                for key in db.list_api_keys().await? {
                    println!("{}", serde_json::to_string(&key)?);
                }
                db.close().await;
            }
            Command::Revoke {
                workspace,
                state,
                id,
            } => {
                let db = open(&workspace, state).await?;
                let revoked = db.revoke_api_key(&id).await?;
                db.close().await;
                anyhow::ensure!(revoked, "no active API key with id {id}\nhint: `cradle api-key list --workspace <WS>` shows them");
                println!("revoked {id}");
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}
