//! The server's mutable state: API keys; users with their sessions,
//! one-time links, the audit log and class corrections (`users.rs`); chat
//! conversations kept per owner (a user or an API key). A SQLite file `<state dir>/state.db` (WAL) by default,
//! PostgreSQL when a `postgres://` URL is given, so a deployment with
//! several replicas can share one database.
//!
//! The schema is created by embedded, numbered migrations written in the
//! SQL both dialects accept (`TEXT`, `BIGINT`, no auto-increment, no
//! dialect functions); each applied version is recorded in
//! `cradle_state_migrations`, so a database is upgraded in place.
//!
//! An API key is `crdl_` followed by 64 hex digits (32 random bytes). Only
//! its SHA-256 is stored, with the first 8 digits as a prefix to show in
//! listings and to find the candidate rows; the hash is then compared in
//! constant time.

use std::borrow::Cow;
use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::SqliteSynchronous;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use sqlx::{AssertSqlSafe, Row};

/// What every refusal for want of a key says to do.
pub const CREATE_KEY_HINT: &str = "hint: create a key with `cradle api-key create --workspace <WS> --name <NAME>` \
     and send it as `Authorization: Bearer <key>`";

/// The token of an `Authorization` header value `Bearer <token>` (the
/// scheme in any case), if it is one.
pub fn bearer_token(authorization: &str) -> Option<&str> {
    let (scheme, token) = authorization.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|token| !token.is_empty())
}

/// The start of every API key, so a leaked key is recognisable.
pub const KEY_PREFIX: &str = "crdl_";

/// Hex digits after [`KEY_PREFIX`] kept in clear for display and lookup.
const DISPLAY_DIGITS: usize = 8;

/// How stale `last_used_at` may get before a use writes it again.
const TOUCH_INTERVAL_SECONDS: i64 = 60;

/// The numbered migrations; each is a list of statements run in order in
/// one transaction. Never edit an applied one: append a new version.
const MIGRATIONS: &[(i64, &[&str])] = &[
    (
        1,
        &[
            "CREATE TABLE IF NOT EXISTS api_keys (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            prefix TEXT NOT NULL,
            hash TEXT NOT NULL UNIQUE,
            created_at BIGINT NOT NULL,
            last_used_at BIGINT,
            revoked_at BIGINT
        )",
            "CREATE INDEX IF NOT EXISTS api_keys_prefix ON api_keys (prefix)",
        ],
    ),
    (2, users::MIGRATION),
    (
        3,
        &[
            // `owner` is `user:<id>` or `key:<api key id>`: every read and
            // write of a conversation names its owner.
            "CREATE TABLE IF NOT EXISTS conversations (
            id TEXT PRIMARY KEY,
            owner TEXT NOT NULL,
            title TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL
        )",
            "CREATE INDEX IF NOT EXISTS conversations_owner ON conversations (owner, updated_at)",
            // `citations` is the JSON of the answer's citations (cradle-chat
            // writes and reads it); `seq` orders a conversation's messages.
            "CREATE TABLE IF NOT EXISTS chat_messages (
            id TEXT PRIMARY KEY,
            conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
            seq BIGINT NOT NULL,
            role TEXT NOT NULL,
            content TEXT NOT NULL,
            citations TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            UNIQUE (conversation_id, seq)
        )",
        ],
    ),
];

/// Where the state lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateConfig {
    /// A directory holding `state.db` (SQLite); created if missing.
    Dir(PathBuf),
    /// A database URL: `postgres://...` / `postgresql://...`, or
    /// `sqlite://path`.
    DatabaseUrl(String),
}

impl StateConfig {
    /// `DATABASE_URL` if it is set and not empty, else `<default_dir>`.
    pub fn from_env(default_dir: impl Into<PathBuf>) -> StateConfig {
        match std::env::var("DATABASE_URL") {
            Ok(url) if !url.trim().is_empty() => StateConfig::DatabaseUrl(url),
            _ => StateConfig::Dir(default_dir.into()),
        }
    }
}

/// Everything that can go wrong with the state database.
#[derive(Debug, thiserror::Error)]
pub enum StateDbError {
    #[error("cannot create the state directory {path}")]
    CreateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "the state database URL {url:?} is not supported\n\
         hint: use postgres://user:password@host/database or sqlite://path"
    )]
    UnsupportedUrl { url: String },
    #[error("cannot open the state database {location}")]
    Connect {
        location: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("cannot migrate the state database to version {version}")]
    Migrate {
        version: i64,
        #[source]
        source: sqlx::Error,
    },
    #[error("the state database failed")]
    Query {
        #[source]
        source: sqlx::Error,
    },
    #[error("an API key name must be 1 to 100 characters without control characters")]
    InvalidName,
    #[error("no conversation {id:?} of this user")]
    ConversationNotFound { id: String },
    #[error("{role:?} is not a role\nhint: use customer_admin, editor, viewer or developer")]
    InvalidRole { role: String },
    #[error("{email:?} is not an email address")]
    InvalidEmail { email: String },
    #[error(
        "a user with the email {email} exists already\nhint: `cradle user list --workspace <WS>` shows the users"
    )]
    DuplicateEmail { email: String },
    #[error("no user {user}\nhint: `cradle user list --workspace <WS>` shows the users")]
    NoSuchUser { user: String },
    #[error("the user {email} is disabled\nhint: an admin can enable them on /users")]
    UserDisabled { email: String },
    #[error(
        "a password must have at least {} characters",
        users::MIN_PASSWORD_CHARS
    )]
    WeakPassword,
    #[error("an ETIM class must be 1 to 100 characters without control characters")]
    InvalidClass,
    #[error("cannot hash the password: {message}")]
    PasswordHash { message: String },
}

impl From<sqlx::Error> for StateDbError {
    fn from(source: sqlx::Error) -> Self {
        StateDbError::Query { source }
    }
}

/// An API key as listed: never the key itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiKeyInfo {
    pub id: String,
    pub name: String,
    /// `crdl_` and the first 8 hex digits of the key.
    pub prefix: String,
    /// RFC 3339, UTC, like the other times.
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
}

/// A key just created: the only time its plaintext exists.
#[derive(Debug, Clone)]
pub struct CreatedApiKey {
    pub id: String,
    pub prefix: String,
    /// Show once to the user; it cannot be recovered.
    pub plaintext: String,
}

#[derive(Debug, Clone)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs the same sqlx code against whichever pool is open.
macro_rules! with_pool {
    ($db:expr, $pool:ident => $body:expr) => {
        match &$db.pool {
            Pool::Sqlite($pool) => $body,
            Pool::Postgres($pool) => $body,
        }
    };
}

mod users;

pub use users::{
    AuditEntry, ClassCorrection, LINK_SECONDS, LinkPurpose, MIN_PASSWORD_CHARS, NewSession, Role,
    SESSION_SECONDS, Session, User, normalise_email,
};

/// The open state database; cheap to clone (a connection pool).
#[derive(Debug, Clone)]
pub struct StateDb {
    pool: Pool,
    location: String,
}

impl StateDb {
    /// Opens (creating if needed) and migrates the state database.
    pub async fn open(config: &StateConfig) -> Result<StateDb, StateDbError> {
        let db = match config {
            StateConfig::Dir(dir) => {
                // Key hashes and the audit trail: owner-only, whatever the
                // umask (SQLite gives its -wal and -shm files the mode of
                // the database file).
                let path = dir.join("state.db");
                cradle_fs::private::create_dir(dir)
                    .and_then(|()| cradle_fs::private::create_file(&path))
                    .map_err(|source| StateDbError::CreateDir {
                        path: dir.clone(),
                        source,
                    })?;
                Self::open_sqlite(
                    SqliteConnectOptions::new().filename(&path),
                    path.display().to_string(),
                )
                .await?
            }
            StateConfig::DatabaseUrl(url)
                if url.starts_with("postgres://") || url.starts_with("postgresql://") =>
            {
                let location = redact(url);
                let pool = PgPoolOptions::new()
                    .max_connections(8)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect(url)
                    .await
                    .map_err(|source| StateDbError::Connect {
                        location: location.clone(),
                        source,
                    })?;
                StateDb {
                    pool: Pool::Postgres(pool),
                    location,
                }
            }
            StateConfig::DatabaseUrl(url) if url.starts_with("sqlite:") => {
                let options: SqliteConnectOptions =
                    url.parse().map_err(|source| StateDbError::Connect {
                        location: url.clone(),
                        source,
                    })?;
                Self::open_sqlite(options, url.clone()).await?
            }
            StateConfig::DatabaseUrl(url) => {
                return Err(StateDbError::UnsupportedUrl { url: redact(url) });
            }
        };
        db.migrate().await?;
        Ok(db)
    }

    async fn open_sqlite(
        options: SqliteConnectOptions,
        location: String,
    ) -> Result<StateDb, StateDbError> {
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(|source| StateDbError::Connect {
                location: location.clone(),
                source,
            })?;
        Ok(StateDb {
            pool: Pool::Sqlite(pool),
            location,
        })
    }

    /// Where the database is, without a password: for logs and `/api/stats`.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// `sqlite` or `postgres`.
    pub fn dialect(&self) -> &'static str {
        match self.pool {
            Pool::Sqlite(_) => "sqlite",
            Pool::Postgres(_) => "postgres",
        }
    }

    /// Statements are written with `$1` placeholders; SQLite takes `?1`.
    /// Only the constant statements of this module pass through here.
    fn sql(&self, statement: &'static str) -> AssertSqlSafe<Cow<'static, str>> {
        AssertSqlSafe(match self.pool {
            Pool::Sqlite(_) => Cow::Owned(statement.replace('$', "?")),
            Pool::Postgres(_) => Cow::Borrowed(statement),
        })
    }

    async fn migrate(&self) -> Result<(), StateDbError> {
        let create = "CREATE TABLE IF NOT EXISTS cradle_state_migrations (
            version BIGINT PRIMARY KEY,
            applied_at BIGINT NOT NULL
        )";
        with_pool!(self, pool => sqlx::query(create).execute(pool).await.map(drop))
            .map_err(|source| StateDbError::Migrate { version: 0, source })?;
        let select = "SELECT version FROM cradle_state_migrations";
        let applied: Vec<i64> = with_pool!(self, pool => {
            sqlx::query(select)
                .fetch_all(pool)
                .await
                .and_then(|rows| rows.iter().map(|row| row.try_get::<i64, _>(0)).collect())
        })
        .map_err(|source| StateDbError::Migrate { version: 0, source })?;
        for (version, statements) in MIGRATIONS {
            if applied.contains(version) {
                continue;
            }
            let version = *version;
            let result: Result<(), sqlx::Error> = with_pool!(self, pool => async {
                let mut transaction = pool.begin().await?;
                for statement in *statements {
                    sqlx::query(*statement).execute(&mut *transaction).await?;
                }
                let record = "INSERT INTO cradle_state_migrations (version, applied_at) VALUES ($1, $2)";
                sqlx::query(self.sql(record))
                    .bind(version)
                    .bind(now_seconds())
                    .execute(&mut *transaction)
                    .await?;
                transaction.commit().await
            }.await);
            result.map_err(|source| StateDbError::Migrate { version, source })?;
        }
        Ok(())
    }

    /// Creates a key named `name`; the plaintext is returned once and
    /// never stored.
    pub async fn create_api_key(&self, name: &str) -> Result<CreatedApiKey, StateDbError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
            return Err(StateDbError::InvalidName);
        }
        let mut secret = [0u8; 32];
        secret[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
        secret[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
        let plaintext = format!("{KEY_PREFIX}{}", hex(&secret));
        let prefix = plaintext[..KEY_PREFIX.len() + DISPLAY_DIGITS].to_owned();
        let id = uuid::Uuid::new_v4().to_string();
        let insert = self.sql(
            "INSERT INTO api_keys (id, name, prefix, hash, created_at) VALUES ($1, $2, $3, $4, $5)",
        );
        with_pool!(self, pool => {
            sqlx::query(insert)
                .bind(&id)
                .bind(name)
                .bind(&prefix)
                .bind(hash_key(&plaintext))
                .bind(now_seconds())
                .execute(pool)
                .await
                .map(drop)
        })?;
        Ok(CreatedApiKey {
            id,
            prefix,
            plaintext,
        })
    }

    /// All keys, revoked ones included, oldest first.
    pub async fn list_api_keys(&self) -> Result<Vec<ApiKeyInfo>, StateDbError> {
        let select = "SELECT id, name, prefix, hash, created_at, last_used_at, revoked_at \
                      FROM api_keys ORDER BY created_at, id";
        let rows = with_pool!(self, pool => {
            sqlx::query(select)
                .fetch_all(pool)
                .await
                .and_then(|rows| rows.iter().map(StoredKey::from_row).collect::<Result<Vec<_>, _>>())
        })?;
        Ok(rows.into_iter().map(StoredKey::info).collect())
    }

    /// Revokes the key with this id; `false` if there is no such unrevoked key.
    pub async fn revoke_api_key(&self, id: &str) -> Result<bool, StateDbError> {
        let update =
            self.sql("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL");
        let affected = with_pool!(self, pool => {
            sqlx::query(update)
                .bind(now_seconds())
                .bind(id)
                .execute(pool)
                .await
                .map(|result| result.rows_affected())
        })?;
        Ok(affected > 0)
    }

    /// The unrevoked key whose plaintext this is, if any. Records the use
    /// (`last_used_at`) at most once a minute per key.
    pub async fn verify_api_key(
        &self,
        plaintext: &str,
    ) -> Result<Option<ApiKeyInfo>, StateDbError> {
        let Some(prefix) = key_prefix(plaintext) else {
            return Ok(None);
        };
        let select = self.sql(
            "SELECT id, name, prefix, hash, created_at, last_used_at, revoked_at \
             FROM api_keys WHERE prefix = $1 AND revoked_at IS NULL",
        );
        let candidates = with_pool!(self, pool => {
            sqlx::query(select)
                .bind(prefix)
                .fetch_all(pool)
                .await
                .and_then(|rows| rows.iter().map(StoredKey::from_row).collect::<Result<Vec<_>, _>>())
        })?;
        let hash = hash_key(plaintext);
        // Every candidate is compared, so the time taken does not tell
        // which one matched.
        let mut found = None;
        for candidate in candidates {
            if constant_time_eq(candidate.hash.as_bytes(), hash.as_bytes()) {
                found = Some(candidate);
            }
        }
        let Some(mut key) = found else {
            return Ok(None);
        };
        let now = now_seconds();
        if key
            .last_used_at
            .is_none_or(|used| now - used >= TOUCH_INTERVAL_SECONDS)
        {
            let touch = self.sql("UPDATE api_keys SET last_used_at = $1 WHERE id = $2");
            with_pool!(self, pool => {
                sqlx::query(touch).bind(now).bind(&key.id).execute(pool).await.map(drop)
            })?;
            key.last_used_at = Some(now);
        }
        Ok(Some(key.info()))
    }

    /// Closes the pool, waiting for connections to be returned.
    pub async fn close(&self) {
        with_pool!(self, pool => pool.close().await);
    }
}

/// A conversation as listed: who owns it is not repeated, the caller
/// named the owner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConversationInfo {
    pub id: String,
    /// The start of the first question.
    pub title: String,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub updated_at: String,
}

/// One stored message of a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredChatMessage {
    pub id: String,
    /// `user` or `assistant`.
    pub role: String,
    pub content: String,
    /// JSON text, as the writer gave it (`[]` for none).
    pub citations: String,
    pub created_at: String,
}

/// The most characters of a conversation's title.
const TITLE_CHARS: usize = 80;

impl StateDb {
    /// Starts a conversation of `owner`, titled after its first question.
    pub async fn create_conversation(
        &self,
        owner: &str,
        first_question: &str,
    ) -> Result<ConversationInfo, StateDbError> {
        let id = uuid::Uuid::new_v4().to_string();
        let title = title_of(first_question);
        let now = now_seconds();
        let insert = self.sql(
            "INSERT INTO conversations (id, owner, title, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $4)",
        );
        with_pool!(self, pool => {
            sqlx::query(insert)
                .bind(&id)
                .bind(owner)
                .bind(&title)
                .bind(now)
                .execute(pool)
                .await
                .map(drop)
        })?;
        Ok(ConversationInfo {
            id,
            title,
            created_at: rfc3339(now),
            updated_at: rfc3339(now),
        })
    }

    /// The conversations of `owner`, most recently active first, at most
    /// `limit`.
    pub async fn list_conversations(
        &self,
        owner: &str,
        limit: u32,
    ) -> Result<Vec<ConversationInfo>, StateDbError> {
        let select = self.sql(
            "SELECT id, title, created_at, updated_at FROM conversations \
             WHERE owner = $1 ORDER BY updated_at DESC, created_at DESC, id LIMIT $2",
        );
        let rows = with_pool!(self, pool => {
            sqlx::query(select)
                .bind(owner)
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await
                .and_then(|rows| rows.iter().map(conversation_from_row).collect::<Result<Vec<_>, _>>())
        })?;
        Ok(rows)
    }

    /// One conversation of `owner`; `None` if there is none with this id
    /// or it belongs to someone else (the two are not told apart).
    pub async fn conversation(
        &self,
        owner: &str,
        id: &str,
    ) -> Result<Option<ConversationInfo>, StateDbError> {
        let select = self.sql(
            "SELECT id, title, created_at, updated_at FROM conversations \
             WHERE id = $1 AND owner = $2",
        );
        let row = with_pool!(self, pool => {
            sqlx::query(select)
                .bind(id)
                .bind(owner)
                .fetch_optional(pool)
                .await
                .and_then(|row| row.as_ref().map(conversation_from_row).transpose())
        })?;
        Ok(row)
    }

    /// The messages of a conversation of `owner`, oldest first; `None` as
    /// for [`StateDb::conversation`].
    pub async fn chat_messages(
        &self,
        owner: &str,
        conversation_id: &str,
    ) -> Result<Option<Vec<StoredChatMessage>>, StateDbError> {
        if self.conversation(owner, conversation_id).await?.is_none() {
            return Ok(None);
        }
        // The owner is checked again in the statement itself, so the
        // messages can never be read past it.
        let select = self.sql(
            "SELECT m.id, m.role, m.content, m.citations, m.created_at \
             FROM chat_messages m JOIN conversations c ON c.id = m.conversation_id \
             WHERE m.conversation_id = $1 AND c.owner = $2 ORDER BY m.seq",
        );
        let rows = with_pool!(self, pool => {
            sqlx::query(select)
                .bind(conversation_id)
                .bind(owner)
                .fetch_all(pool)
                .await
                .and_then(|rows| rows.iter().map(message_from_row).collect::<Result<Vec<_>, _>>())
        })?;
        Ok(Some(rows))
    }

    /// Appends a message to a conversation of `owner`; an unknown
    /// conversation, or another owner's, is [`StateDbError::ConversationNotFound`].
    pub async fn add_chat_message(
        &self,
        owner: &str,
        conversation_id: &str,
        role: &str,
        content: &str,
        citations_json: &str,
    ) -> Result<StoredChatMessage, StateDbError> {
        let id = uuid::Uuid::new_v4().to_string();
        let now = now_seconds();
        let touch =
            self.sql("UPDATE conversations SET updated_at = $1 WHERE id = $2 AND owner = $3");
        let next =
            self.sql("SELECT COALESCE(MAX(seq), 0) FROM chat_messages WHERE conversation_id = $1");
        let insert = self.sql(
            "INSERT INTO chat_messages (id, conversation_id, seq, role, content, citations, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        );
        let found = with_pool!(self, pool => async {
            let mut transaction = pool.begin().await?;
            // Touching the row first checks the owner and, on PostgreSQL,
            // locks the conversation, so two answers do not take one seq.
            let touched = sqlx::query(touch)
                .bind(now)
                .bind(conversation_id)
                .bind(owner)
                .execute(&mut *transaction)
                .await?
                .rows_affected();
            if touched == 0 {
                return Ok::<bool, sqlx::Error>(false);
            }
            let last: i64 = sqlx::query(next)
                .bind(conversation_id)
                .fetch_one(&mut *transaction)
                .await?
                .try_get(0)?;
            sqlx::query(insert)
                .bind(&id)
                .bind(conversation_id)
                .bind(last + 1)
                .bind(role)
                .bind(content)
                .bind(citations_json)
                .bind(now)
                .execute(&mut *transaction)
                .await?;
            transaction.commit().await?;
            Ok(true)
        }.await)?;
        if !found {
            return Err(StateDbError::ConversationNotFound {
                id: conversation_id.to_owned(),
            });
        }
        Ok(StoredChatMessage {
            id,
            role: role.to_owned(),
            content: content.to_owned(),
            citations: citations_json.to_owned(),
            created_at: rfc3339(now),
        })
    }
}

/// The first line of a question, at most [`TITLE_CHARS`] characters.
fn title_of(question: &str) -> String {
    let line = question.trim().lines().next().unwrap_or("").trim();
    let mut title: String = line
        .chars()
        .filter(|c| !c.is_control())
        .take(TITLE_CHARS)
        .collect();
    if line.chars().count() > TITLE_CHARS {
        title.push('…');
    }
    title
}

fn conversation_from_row<R>(row: &R) -> Result<ConversationInfo, sqlx::Error>
where
    R: Row,
    for<'r> &'r str: sqlx::ColumnIndex<R>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    Ok(ConversationInfo {
        id: row.try_get("id")?,
        title: row.try_get("title")?,
        created_at: rfc3339(row.try_get("created_at")?),
        updated_at: rfc3339(row.try_get("updated_at")?),
    })
}

fn message_from_row<R>(row: &R) -> Result<StoredChatMessage, sqlx::Error>
where
    R: Row,
    for<'r> &'r str: sqlx::ColumnIndex<R>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    Ok(StoredChatMessage {
        id: row.try_get("id")?,
        role: row.try_get("role")?,
        content: row.try_get("content")?,
        citations: row.try_get("citations")?,
        created_at: rfc3339(row.try_get("created_at")?),
    })
}

/// A row of `api_keys`.
struct StoredKey {
    id: String,
    name: String,
    prefix: String,
    hash: String,
    created_at: i64,
    last_used_at: Option<i64>,
    revoked_at: Option<i64>,
}

impl StoredKey {
    fn from_row<R>(row: &R) -> Result<StoredKey, sqlx::Error>
    where
        R: Row,
        for<'r> &'r str: sqlx::ColumnIndex<R>,
        for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
        for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    {
        Ok(StoredKey {
            id: row.try_get("id")?,
            name: row.try_get("name")?,
            prefix: row.try_get("prefix")?,
            hash: row.try_get("hash")?,
            created_at: row.try_get("created_at")?,
            last_used_at: row.try_get("last_used_at")?,
            revoked_at: row.try_get("revoked_at")?,
        })
    }

    fn info(self) -> ApiKeyInfo {
        ApiKeyInfo {
            id: self.id,
            name: self.name,
            prefix: self.prefix,
            created_at: rfc3339(self.created_at),
            last_used_at: self.last_used_at.map(rfc3339),
            revoked_at: self.revoked_at.map(rfc3339),
        }
    }
}

/// The display prefix of a well-formed key, `None` for anything else.
fn key_prefix(plaintext: &str) -> Option<&str> {
    let digits = plaintext.strip_prefix(KEY_PREFIX)?;
    if digits.len() != 64 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    Some(&plaintext[..KEY_PREFIX.len() + DISPLAY_DIGITS])
}

fn hash_key(plaintext: &str) -> String {
    hex(&Sha256::digest(plaintext.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Equality whose time depends only on the lengths.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let difference = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(difference) == 0
}

/// `postgres://user:secret@host/db` without the secret.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            let user = credentials.split(':').next().unwrap_or("");
            format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

use cradle_core::dates::{now_seconds, rfc3339};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_times_as_rfc3339() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_795_938_312), "2026-11-29T07:45:12Z");
    }

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact("postgres://cradle:s3cret@db:5432/cradle"),
            "postgres://cradle:***@db:5432/cradle"
        );
        assert_eq!(redact("postgres://db/cradle"), "postgres://db/cradle");
    }

    #[test]
    fn recognises_well_formed_keys_only() {
        let key = format!("{KEY_PREFIX}{}", "ab".repeat(32));
        assert_eq!(key_prefix(&key), Some("crdl_abababab"));
        assert_eq!(key_prefix("crdl_short"), None);
        assert_eq!(key_prefix(&key.replace("crdl_", "xxxx_")), None);
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
