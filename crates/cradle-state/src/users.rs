//! The people who use the console: users with one role each, their
//! passwords (argon2id), sessions, one-time sign-in and reset links, the
//! audit log of sign-ins and admin actions, and editors' corrections of a
//! product's ETIM class (migration version 2).
//!
//! Secrets are stored the way API keys are: a session token, a sign-in
//! link's token and a CSRF token are 32 random bytes in hex, and only the
//! SHA-256 of the session and link tokens is kept. A session ends when it
//! expires, when its user signs out, or when an admin disables the user
//! (every lookup also checks that the user is still enabled).

use std::fmt;
use std::str::FromStr;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use serde::Serialize;
use sqlx::Row;

use crate::{Pool, StateDb, StateDbError, hash_key, hex, now_seconds, rfc3339};

/// How long a session lasts after sign-in.
pub const SESSION_SECONDS: i64 = 12 * 3600;
/// How long a one-time sign-in or reset link stays valid.
pub const LINK_SECONDS: i64 = 24 * 3600;
/// The shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 10;

/// The statements of migration version 2.
pub(crate) const MIGRATION: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS users (
        id TEXT PRIMARY KEY,
        email TEXT NOT NULL UNIQUE,
        role TEXT NOT NULL,
        language TEXT,
        password_hash TEXT,
        created_at BIGINT NOT NULL,
        disabled_at BIGINT,
        last_sign_in_at BIGINT
    )",
    "CREATE TABLE IF NOT EXISTS sessions (
        hash TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        csrf TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL
    )",
    "CREATE INDEX IF NOT EXISTS sessions_user ON sessions (user_id)",
    "CREATE TABLE IF NOT EXISTS sign_in_links (
        hash TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        purpose TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL,
        used_at BIGINT
    )",
    "CREATE TABLE IF NOT EXISTS audit_log (
        id TEXT PRIMARY KEY,
        at BIGINT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT,
        detail TEXT
    )",
    "CREATE INDEX IF NOT EXISTS audit_log_at ON audit_log (at)",
    "CREATE TABLE IF NOT EXISTS class_corrections (
        id TEXT PRIMARY KEY,
        article_no TEXT NOT NULL,
        etim_class TEXT NOT NULL,
        previous TEXT,
        user_id TEXT NOT NULL,
        email TEXT NOT NULL,
        at BIGINT NOT NULL
    )",
    "CREATE INDEX IF NOT EXISTS class_corrections_article ON class_corrections (article_no, at)",
];

/// What a user may do; each role is a fixed set of permissions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, including users, API keys and the audit log.
    CustomerAdmin,
    /// A viewer who may also confirm or correct a product's ETIM class.
    Editor,
    /// Reads, searches and chats.
    Viewer,
    /// A viewer who may also manage API keys, run SQL and set up MCP.
    Developer,
}

impl Role {
    pub const ALL: [Role; 4] = [
        Role::CustomerAdmin,
        Role::Editor,
        Role::Viewer,
        Role::Developer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::CustomerAdmin => "customer_admin",
            Role::Editor => "editor",
            Role::Viewer => "viewer",
            Role::Developer => "developer",
        }
    }

    /// Users and the audit log.
    pub fn manages_users(self) -> bool {
        self == Role::CustomerAdmin
    }

    /// API keys, the SQL console and the MCP set-up.
    pub fn develops(self) -> bool {
        matches!(self, Role::CustomerAdmin | Role::Developer)
    }

    /// Confirming or correcting an ETIM class.
    pub fn edits_classes(self) -> bool {
        matches!(self, Role::CustomerAdmin | Role::Editor)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = StateDbError;

    fn from_str(text: &str) -> Result<Role, StateDbError> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == text.trim())
            .ok_or_else(|| StateDbError::InvalidRole {
                role: text.to_owned(),
            })
    }
}

/// What a one-time link does when it is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkPurpose {
    /// Signs in and leads to the dashboard (`cradle user add`).
    SignIn,
    /// Signs in and leads to the form that sets a new password.
    Reset,
}

impl LinkPurpose {
    fn as_str(self) -> &'static str {
        match self {
            LinkPurpose::SignIn => "sign_in",
            LinkPurpose::Reset => "reset",
        }
    }
}

/// A user as shown; never the password hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: String,
    pub email: String,
    pub role: Role,
    /// `de` or `en` when the user chose one; else the browser decides.
    pub language: Option<String>,
    pub has_password: bool,
    pub created_at: String,
    pub disabled_at: Option<String>,
    pub last_sign_in_at: Option<String>,
}

impl User {
    pub fn disabled(&self) -> bool {
        self.disabled_at.is_some()
    }
}

/// A signed-in user's session, found by its cookie.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub user: User,
    /// The token every form of this session must carry.
    pub csrf: String,
    pub expires_at: i64,
}

/// A session just created: the cookie's value exists only here.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub token: String,
    pub csrf: String,
    pub expires_at: i64,
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    pub at: String,
    /// `user:<email>`, `cli` or `anonymous`.
    pub actor: String,
    /// e.g. `sign_in`, `sign_in_failed`, `user_added`, `api_key_revoked`.
    pub action: String,
    pub target: Option<String>,
    pub detail: Option<String>,
}

/// An editor's decision on a product's ETIM class.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClassCorrection {
    pub article_no: String,
    pub etim_class: String,
    /// The class shown before (the classifier's or an earlier correction).
    pub previous: Option<String>,
    pub email: String,
    pub at: String,
}

/// A [`ClassCorrection`] from a row of `article_no, etim_class, previous,
/// email, at`.
fn correction_from_row<R>(row: &R) -> Result<ClassCorrection, sqlx::Error>
where
    R: Row,
    for<'r> &'r str: sqlx::ColumnIndex<R>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    Ok(ClassCorrection {
        article_no: row.try_get("article_no")?,
        etim_class: row.try_get("etim_class")?,
        previous: row.try_get("previous")?,
        email: row.try_get("email")?,
        at: rfc3339(row.try_get("at")?),
    })
}

fn user_from_row<R>(row: &R) -> Result<User, sqlx::Error>
where
    R: Row,
    for<'r> &'r str: sqlx::ColumnIndex<R>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let role: String = row.try_get("role")?;
    let password_hash: Option<String> = row.try_get("password_hash")?;
    Ok(User {
        id: row.try_get("id")?,
        email: row.try_get("email")?,
        role: role
            .parse()
            .map_err(|error: StateDbError| sqlx::Error::Decode(error.to_string().into()))?,
        language: row.try_get("language")?,
        has_password: password_hash.is_some(),
        created_at: rfc3339(row.try_get("created_at")?),
        disabled_at: row.try_get::<Option<i64>, _>("disabled_at")?.map(rfc3339),
        last_sign_in_at: row
            .try_get::<Option<i64>, _>("last_sign_in_at")?
            .map(rfc3339),
    })
}

/// 32 random bytes in hex (two v4 UUIDs: the operating system's generator).
fn secret() -> String {
    let mut bytes = [0u8; 32];
    bytes[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    bytes[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    hex(&bytes)
}

/// An email address as stored: trimmed, lower case, one `@` with text on
/// both sides, no spaces or control characters.
pub fn normalise_email(email: &str) -> Result<String, StateDbError> {
    let email = email.trim().to_lowercase();
    let valid = email.len() <= 254
        && email.split('@').count() == 2
        && email
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'))
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    if valid {
        Ok(email)
    } else {
        Err(StateDbError::InvalidEmail { email })
    }
}

/// The argon2id hash (PHC string) of `password`.
fn hash_password(password: &str) -> Result<String, StateDbError> {
    // 16 bytes from the operating system's generator (a v4 UUID's
    // randomness), as the PHC format's base64.
    let salt = SaltString::encode_b64(uuid::Uuid::new_v4().as_bytes()).map_err(|error| {
        StateDbError::PasswordHash {
            message: error.to_string(),
        }
    })?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|error| StateDbError::PasswordHash {
            message: error.to_string(),
        })
}

fn password_matches(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|hash| {
        Argon2::default()
            .verify_password(password.as_bytes(), &hash)
            .is_ok()
    })
}

/// A hash to verify against when there is no user, so a wrong address
/// takes as long as a wrong password.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password("no such user, no such password").unwrap_or_default())
}

impl StateDb {
    /// Adds a user without a password (they sign in by a one-time link
    /// first and may set one then).
    pub async fn create_user(&self, email: &str, role: Role) -> Result<User, StateDbError> {
        let email = normalise_email(email)?;
        if self.user_by_email(&email).await?.is_some() {
            return Err(StateDbError::DuplicateEmail { email });
        }
        let id = uuid::Uuid::new_v4().to_string();
        let insert =
            self.sql("INSERT INTO users (id, email, role, created_at) VALUES ($1, $2, $3, $4)");
        with_pool!(self, pool => {
            sqlx::query(insert)
                .bind(&id)
                .bind(&email)
                .bind(role.as_str())
                .bind(now_seconds())
                .execute(pool)
                .await
                .map(drop)
        })?;
        self.user(&id)
            .await?
            .ok_or(StateDbError::NoSuchUser { user: id })
    }

    /// Every user, by email.
    pub async fn users(&self) -> Result<Vec<User>, StateDbError> {
        let select: &'static str = "SELECT id, email, role, language, password_hash, created_at, \
             disabled_at, last_sign_in_at FROM users ORDER BY email";
        Ok(with_pool!(self, pool => {
            sqlx::query(select)
                .fetch_all(pool)
                .await
                .and_then(|rows| rows.iter().map(user_from_row).collect::<Result<Vec<_>, _>>())
        })?)
    }

    /// The user with this id.
    pub async fn user(&self, id: &str) -> Result<Option<User>, StateDbError> {
        let select = self.sql(
            "SELECT id, email, role, language, password_hash, created_at, disabled_at, \
             last_sign_in_at FROM users WHERE id = $1",
        );
        Ok(with_pool!(self, pool => {
            match sqlx::query(select).bind(id).fetch_optional(pool).await {
                Ok(Some(row)) => user_from_row(&row).map(Some),
                Ok(None) => Ok(None),
                Err(error) => Err(error),
            }
        })?)
    }

    /// The user with this email (any case).
    pub async fn user_by_email(&self, email: &str) -> Result<Option<User>, StateDbError> {
        Ok(self.user_and_hash(email).await?.map(|(user, _)| user))
    }

    async fn user_and_hash(
        &self,
        email: &str,
    ) -> Result<Option<(User, Option<String>)>, StateDbError> {
        let email = email.trim().to_lowercase();
        let select = self.sql(
            "SELECT id, email, role, language, password_hash, created_at, disabled_at, \
             last_sign_in_at FROM users WHERE email = $1",
        );
        Ok(with_pool!(self, pool => {
            match sqlx::query(select).bind(&email).fetch_optional(pool).await {
                Ok(Some(row)) => user_from_row(&row)
                    .and_then(|user| Ok((user, row.try_get::<Option<String>, _>("password_hash")?)))
                    .map(Some),
                Ok(None) => Ok(None),
                Err(error) => Err(error),
            }
        })?)
    }

    /// Sets (or replaces) a user's password.
    pub async fn set_password(&self, user_id: &str, password: &str) -> Result<(), StateDbError> {
        if password.chars().count() < MIN_PASSWORD_CHARS || password.len() > 1024 {
            return Err(StateDbError::WeakPassword);
        }
        let password = password.to_owned();
        let hash = tokio::task::spawn_blocking(move || hash_password(&password))
            .await
            .map_err(|error| StateDbError::PasswordHash {
                message: error.to_string(),
            })??;
        let update = self.sql("UPDATE users SET password_hash = $1 WHERE id = $2");
        self.changed(with_pool!(self, pool => {
            sqlx::query(update).bind(&hash).bind(user_id).execute(pool).await.map(|r| r.rows_affected())
        })?, user_id)
    }

    /// The enabled user with this email and password, if any. Takes about
    /// as long whether the user exists or not.
    pub async fn check_password(
        &self,
        email: &str,
        password: &str,
    ) -> Result<Option<User>, StateDbError> {
        let found = self.user_and_hash(email).await?;
        let stored = found
            .as_ref()
            .and_then(|(_, hash)| hash.clone())
            .unwrap_or_else(|| dummy_hash().to_owned());
        let password = password.to_owned();
        let matches = tokio::task::spawn_blocking(move || password_matches(&password, &stored))
            .await
            .unwrap_or(false);
        Ok(found
            .filter(|(user, hash)| matches && hash.is_some() && !user.disabled())
            .map(|(user, _)| user))
    }

    pub async fn set_role(&self, user_id: &str, role: Role) -> Result<(), StateDbError> {
        let update = self.sql("UPDATE users SET role = $1 WHERE id = $2");
        self.changed(with_pool!(self, pool => {
            sqlx::query(update).bind(role.as_str()).bind(user_id).execute(pool).await.map(|r| r.rows_affected())
        })?, user_id)
    }

    /// `de`, `en`, or `None` for the browser's choice.
    pub async fn set_language(
        &self,
        user_id: &str,
        language: Option<&str>,
    ) -> Result<(), StateDbError> {
        let update = self.sql("UPDATE users SET language = $1 WHERE id = $2");
        self.changed(with_pool!(self, pool => {
            sqlx::query(update).bind(language).bind(user_id).execute(pool).await.map(|r| r.rows_affected())
        })?, user_id)
    }

    /// Disables a user and ends their sessions and unused links at once.
    pub async fn disable_user(&self, user_id: &str) -> Result<(), StateDbError> {
        let update =
            self.sql("UPDATE users SET disabled_at = $1 WHERE id = $2 AND disabled_at IS NULL");
        let affected = with_pool!(self, pool => {
            sqlx::query(update).bind(now_seconds()).bind(user_id).execute(pool).await.map(|r| r.rows_affected())
        })?;
        if affected == 0 && self.user(user_id).await?.is_none() {
            return Err(StateDbError::NoSuchUser {
                user: user_id.to_owned(),
            });
        }
        let sessions = self.sql("DELETE FROM sessions WHERE user_id = $1");
        let links = self.sql("DELETE FROM sign_in_links WHERE user_id = $1");
        with_pool!(self, pool => async {
            sqlx::query(sessions).bind(user_id).execute(pool).await?;
            sqlx::query(links).bind(user_id).execute(pool).await.map(drop)
        }.await)?;
        Ok(())
    }

    /// Lets a disabled user sign in again.
    pub async fn enable_user(&self, user_id: &str) -> Result<(), StateDbError> {
        let update = self.sql("UPDATE users SET disabled_at = NULL WHERE id = $1");
        self.changed(
            with_pool!(self, pool => {
                sqlx::query(update).bind(user_id).execute(pool).await.map(|r| r.rows_affected())
            })?,
            user_id,
        )
    }

    fn changed(&self, affected: u64, user_id: &str) -> Result<(), StateDbError> {
        if affected == 0 {
            Err(StateDbError::NoSuchUser {
                user: user_id.to_owned(),
            })
        } else {
            Ok(())
        }
    }

    /// A one-time link's token for an enabled user; valid for
    /// [`LINK_SECONDS`]. Only its hash is stored.
    pub async fn issue_link(
        &self,
        user_id: &str,
        purpose: LinkPurpose,
    ) -> Result<String, StateDbError> {
        let user = self
            .user(user_id)
            .await?
            .ok_or_else(|| StateDbError::NoSuchUser {
                user: user_id.to_owned(),
            })?;
        if user.disabled() {
            return Err(StateDbError::UserDisabled { email: user.email });
        }
        let token = secret();
        let now = now_seconds();
        let insert = self.sql(
            "INSERT INTO sign_in_links (hash, user_id, purpose, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        );
        with_pool!(self, pool => {
            sqlx::query(insert)
                .bind(hash_key(&token))
                .bind(user_id)
                .bind(purpose.as_str())
                .bind(now)
                .bind(now + LINK_SECONDS)
                .execute(pool)
                .await
                .map(drop)
        })?;
        Ok(token)
    }

    /// Uses up a link: the user and what the link was for, if the token is
    /// known, unused, unexpired and its user enabled. A second use finds
    /// nothing (the update claims the row).
    pub async fn redeem_link(
        &self,
        token: &str,
    ) -> Result<Option<(User, LinkPurpose)>, StateDbError> {
        let now = now_seconds();
        let claim = self.sql(
            "UPDATE sign_in_links SET used_at = $1 \
             WHERE hash = $2 AND used_at IS NULL AND expires_at > $3",
        );
        let hash = hash_key(token.trim());
        let claimed = with_pool!(self, pool => {
            sqlx::query(claim).bind(now).bind(&hash).bind(now).execute(pool).await.map(|r| r.rows_affected())
        })?;
        if claimed == 0 {
            return Ok(None);
        }
        let select = self.sql("SELECT user_id, purpose FROM sign_in_links WHERE hash = $1");
        let (user_id, purpose): (String, String) = with_pool!(self, pool => {
            sqlx::query(select).bind(&hash).fetch_one(pool).await.and_then(|row| {
                Ok((row.try_get("user_id")?, row.try_get("purpose")?))
            })
        })?;
        let purpose = if purpose == LinkPurpose::Reset.as_str() {
            LinkPurpose::Reset
        } else {
            LinkPurpose::SignIn
        };
        Ok(self
            .user(&user_id)
            .await?
            .filter(|user| !user.disabled())
            .map(|user| (user, purpose)))
    }

    /// Starts a session for an enabled user and records the sign-in time.
    pub async fn create_session(&self, user_id: &str) -> Result<NewSession, StateDbError> {
        let token = secret();
        let csrf = secret();
        let now = now_seconds();
        let expires_at = now + SESSION_SECONDS;
        let insert = self.sql(
            "INSERT INTO sessions (hash, user_id, csrf, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
        );
        let touch = self.sql("UPDATE users SET last_sign_in_at = $1 WHERE id = $2");
        with_pool!(self, pool => async {
            sqlx::query(insert)
                .bind(hash_key(&token))
                .bind(user_id)
                .bind(&csrf)
                .bind(now)
                .bind(expires_at)
                .execute(pool)
                .await?;
            sqlx::query(touch).bind(now).bind(user_id).execute(pool).await.map(drop)
        }.await)?;
        Ok(NewSession {
            token,
            csrf,
            expires_at,
        })
    }

    /// The live session of this cookie value: unexpired, its user enabled.
    pub async fn session(&self, token: &str) -> Result<Option<Session>, StateDbError> {
        let select = self.sql(
            "SELECT u.id, u.email, u.role, u.language, u.password_hash, u.created_at, \
             u.disabled_at, u.last_sign_in_at, s.csrf, s.expires_at \
             FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.hash = $1 AND s.expires_at > $2 AND u.disabled_at IS NULL",
        );
        let hash = hash_key(token);
        Ok(with_pool!(self, pool => {
            match sqlx::query(select).bind(&hash).bind(now_seconds()).fetch_optional(pool).await {
                Ok(Some(row)) => user_from_row(&row).and_then(|user| {
                    Ok(Some(Session {
                        user,
                        csrf: row.try_get("csrf")?,
                        expires_at: row.try_get("expires_at")?,
                    }))
                }),
                Ok(None) => Ok(None),
                Err(error) => Err(error),
            }
        })?)
    }

    /// Ends the session of this cookie value (signing out), and removes
    /// expired sessions while at it.
    pub async fn end_session(&self, token: &str) -> Result<(), StateDbError> {
        let delete = self.sql("DELETE FROM sessions WHERE hash = $1 OR expires_at <= $2");
        with_pool!(self, pool => {
            sqlx::query(delete).bind(hash_key(token)).bind(now_seconds()).execute(pool).await.map(drop)
        })?;
        Ok(())
    }

    /// Appends to the audit log.
    pub async fn audit(
        &self,
        actor: &str,
        action: &str,
        target: Option<&str>,
        detail: Option<&str>,
    ) -> Result<(), StateDbError> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        // Sortable by time, unique by the random part.
        let id = format!("{nanos:024}-{}", uuid::Uuid::new_v4().simple());
        let insert = self.sql(
            "INSERT INTO audit_log (id, at, actor, action, target, detail) VALUES ($1, $2, $3, $4, $5, $6)",
        );
        with_pool!(self, pool => {
            sqlx::query(insert)
                .bind(&id)
                .bind(now_seconds())
                .bind(actor)
                .bind(action)
                .bind(target)
                .bind(detail)
                .execute(pool)
                .await
                .map(drop)
        })?;
        Ok(())
    }

    /// The newest `limit` entries of the audit log, newest first.
    pub async fn audit_log(&self, limit: i64) -> Result<Vec<AuditEntry>, StateDbError> {
        let select = self.sql(
            "SELECT at, actor, action, target, detail FROM audit_log ORDER BY id DESC LIMIT $1",
        );
        Ok(with_pool!(self, pool => {
            sqlx::query(select).bind(limit).fetch_all(pool).await.and_then(|rows| {
                rows.iter()
                    .map(|row| {
                        Ok(AuditEntry {
                            at: rfc3339(row.try_get("at")?),
                            actor: row.try_get("actor")?,
                            action: row.try_get("action")?,
                            target: row.try_get("target")?,
                            detail: row.try_get("detail")?,
                        })
                    })
                    .collect::<Result<Vec<_>, sqlx::Error>>()
            })
        })?)
    }

    /// Records an editor's class for a product; the newest correction is
    /// the product's class from now on.
    pub async fn correct_class(
        &self,
        article_no: &str,
        etim_class: &str,
        previous: Option<&str>,
        user: &User,
    ) -> Result<ClassCorrection, StateDbError> {
        let etim_class = etim_class.trim();
        if etim_class.is_empty()
            || etim_class.chars().count() > 100
            || etim_class.chars().any(char::is_control)
        {
            return Err(StateDbError::InvalidClass);
        }
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let id = format!("{nanos:024}-{}", uuid::Uuid::new_v4().simple());
        let now = now_seconds();
        let insert = self.sql(
            "INSERT INTO class_corrections (id, article_no, etim_class, previous, user_id, email, at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        );
        with_pool!(self, pool => {
            sqlx::query(insert)
                .bind(&id)
                .bind(article_no)
                .bind(etim_class)
                .bind(previous)
                .bind(&user.id)
                .bind(&user.email)
                .bind(now)
                .execute(pool)
                .await
                .map(drop)
        })?;
        Ok(ClassCorrection {
            article_no: article_no.to_owned(),
            etim_class: etim_class.to_owned(),
            previous: previous.map(str::to_owned),
            email: user.email.clone(),
            at: rfc3339(now),
        })
    }

    /// The newest correction of every corrected product, by article
    /// number: the classes that win over the catalog's everywhere.
    pub async fn current_class_corrections(&self) -> Result<Vec<ClassCorrection>, StateDbError> {
        let select = self.sql(
            "SELECT c.article_no, c.etim_class, c.previous, c.email, c.at \
             FROM class_corrections c \
             WHERE c.id = (SELECT max(d.id) FROM class_corrections d \
                           WHERE d.article_no = c.article_no) \
             ORDER BY c.article_no",
        );
        Ok(with_pool!(self, pool => {
            sqlx::query(select).fetch_all(pool).await.and_then(|rows| {
                rows.iter()
                    .map(correction_from_row)
                    .collect::<Result<Vec<_>, sqlx::Error>>()
            })
        })?)
    }

    /// Every correction of a product's class, newest first.
    pub async fn class_corrections(
        &self,
        article_no: &str,
    ) -> Result<Vec<ClassCorrection>, StateDbError> {
        let select = self.sql(
            "SELECT article_no, etim_class, previous, email, at FROM class_corrections \
             WHERE article_no = $1 ORDER BY id DESC",
        );
        Ok(with_pool!(self, pool => {
            sqlx::query(select).bind(article_no).fetch_all(pool).await.and_then(|rows| {
                rows.iter()
                    .map(correction_from_row)
                    .collect::<Result<Vec<_>, sqlx::Error>>()
            })
        })?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_parse_exactly() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>().expect("parses"), role);
        }
        assert!("admin".parse::<Role>().is_err());
        assert!(Role::CustomerAdmin.manages_users() && !Role::Developer.manages_users());
        assert!(Role::Developer.develops() && !Role::Editor.develops());
        assert!(Role::Editor.edits_classes() && !Role::Viewer.edits_classes());
    }

    #[test]
    fn emails_are_normalised_or_refused() {
        assert_eq!(
            normalise_email(" Ada@Example.COM ").expect("valid"),
            "ada@example.com"
        );
        for bad in [
            "",
            "ada",
            "@example.com",
            "ada@localhost",
            "a b@x.de",
            "a@b@c.de",
        ] {
            assert!(normalise_email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords_hash_with_a_salt_and_verify() {
        let one = hash_password("correct horse battery").expect("hash");
        let two = hash_password("correct horse battery").expect("hash");
        assert_ne!(one, two, "salted");
        assert!(one.starts_with("$argon2id$"));
        assert!(password_matches("correct horse battery", &one));
        assert!(!password_matches("correct horse batterY", &one));
        assert!(!password_matches("x", "not a hash"));
    }
}
