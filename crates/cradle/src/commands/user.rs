//! `cradle user add|list|disable --workspace <WS>`: the console's users in
//! the state database. `add` prints a one-time sign-in link: how the first
//! admin gets in before there is anyone to invite them.

use anyhow::{Context, Result};
use cradle_fs::Workspace;
use cradle_state::{LinkPurpose, Role, StateConfig, StateDb};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Add a user and print a one-time link that signs them in.
    Add {
        #[arg(long, short)]
        workspace: PathBuf,
        /// The state directory (default `<WS>/state`; an image keeps it in `/state`).
        #[arg(long)]
        state: Option<PathBuf>,
        #[arg(long)]
        email: String,
        /// customer_admin, editor, viewer or developer.
        #[arg(long)]
        role: String,
        /// The console's address as the user reaches it, for the link.
        #[arg(long, default_value = "http://127.0.0.1:9314")]
        url: String,
    },
    /// List users (email, role, state), one JSON object a line.
    List {
        #[arg(long, short)]
        workspace: PathBuf,
        #[arg(long)]
        state: Option<PathBuf>,
    },
    /// Disable a user by email; their sessions end at once.
    Disable {
        #[arg(long, short)]
        workspace: PathBuf,
        #[arg(long)]
        state: Option<PathBuf>,
        email: String,
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
            async move {
                StateDb::open(&config)
                    .await
                    .context("cannot open the state database")
            }
        };
        match command {
            Command::Add {
                workspace,
                state,
                email,
                role,
                url,
            } => {
                let role: Role = role.parse()?;
                let db = open(&workspace, state).await?;
                let user = db.create_user(&email, role).await?;
                let token = db.issue_link(&user.id, LinkPurpose::SignIn).await?;
                db.audit("cli", "user_added", Some(&user.email), Some(role.as_str()))
                    .await?;
                db.close().await;
                println!("{}", cradle_web::sign_in_link(&url, &token));
                eprintln!(
                    "added {} as {role}; the link signs them in once within {} hours.",
                    user.email,
                    cradle_state::LINK_SECONDS / 3600
                );
            }
            Command::List { workspace, state } => {
                let db = open(&workspace, state).await?;
                for user in db.users().await? {
                    println!("{}", serde_json::to_string(&user)?);
                }
                db.close().await;
            }
            Command::Disable {
                workspace,
                state,
                email,
            } => {
                let db = open(&workspace, state).await?;
                let user = db.user_by_email(&email).await?.with_context(|| {
                    format!("no user {email}\nhint: `cradle user list --workspace <WS>` shows them")
                })?;
                db.disable_user(&user.id).await?;
                db.audit("cli", "user_disabled", Some(&user.email), None)
                    .await?;
                db.close().await;
                println!("disabled {}", user.email);
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}
