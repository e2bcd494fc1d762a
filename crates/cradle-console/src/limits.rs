//! Per-key limits on the routes that cost the most: search, SQL and chat.
//! Each API key has a token bucket per route class (a steady rate and a
//! burst), and SQL also a number of queries that may run at once. A
//! request over a limit is answered `429 Too Many Requests` with
//! `Retry-After`, so one client cannot starve the others (the state
//! database and the product pages are not limited: they are cheap).
//! The rates are [`Rates::default`] unless `cradle serve --rate` sets them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use cradle_state::ApiKeyInfo;
use tokio::sync::Semaphore;

use crate::AppState;
use crate::error::AppError;

/// A class of limited routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Class {
    Search,
    Sql,
    Chat,
}

impl Class {
    fn of(route: &str) -> Option<Class> {
        match route {
            "/api/search" => Some(Class::Search),
            "/api/sql" => Some(Class::Sql),
            "/api/chat" => Some(Class::Chat),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Class::Search => "search",
            Class::Sql => "SQL",
            Class::Chat => "chat",
        }
    }
}

/// SQL queries one key may have running at once.
pub const SQL_PER_KEY: usize = 2;

/// A steady rate and the burst a key may send before the rate applies.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    pub per_second: f64,
    pub burst: f64,
}

impl Rate {
    /// `per_second` with a burst of three seconds' worth (at least 5).
    pub fn per_second(per_second: f64) -> Rate {
        Rate {
            per_second,
            burst: (per_second * 3.0).max(5.0),
        }
    }
}

/// The rate of each class of limited routes, per API key.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rates {
    pub search: Rate,
    pub sql: Rate,
    pub chat: Rate,
}

impl Default for Rates {
    /// Search 50/s (an interactive integration never needs more; a
    /// scraper does), SQL 2/s, chat one question every two seconds.
    fn default() -> Rates {
        Rates {
            search: Rate::per_second(50.0),
            sql: Rate {
                per_second: 2.0,
                burst: 10.0,
            },
            chat: Rate::per_second(0.5),
        }
    }
}

impl Rates {
    pub fn of(&self, class: Class) -> Rate {
        match class {
            Class::Search => self.search,
            Class::Sql => self.sql,
            Class::Chat => self.chat,
        }
    }

    /// Sets one class from `search=100` (requests per second); what
    /// `cradle serve --rate` parses.
    pub fn set(&mut self, setting: &str) -> Result<(), String> {
        let hint = "expected CLASS=PER_SECOND with CLASS search, sql or chat, e.g. search=200";
        let (class, value) = setting
            .split_once('=')
            .ok_or_else(|| format!("{setting:?}: {hint}"))?;
        let per_second: f64 = value
            .trim()
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite() && *v > 0.0)
            .ok_or_else(|| format!("{setting:?}: the rate must be a positive number; {hint}"))?;
        let rate = Rate::per_second(per_second);
        match class.trim() {
            "search" => self.search = rate,
            "sql" => self.sql = rate,
            "chat" => self.chat = rate,
            other => return Err(format!("{other:?} is not a limited class; {hint}")),
        }
        Ok(())
    }
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// The buckets and SQL slots of every key seen.
#[derive(Debug, Default)]
pub struct Limiter {
    rates: Rates,
    buckets: Mutex<HashMap<(String, Class), Bucket>>,
    sql: Mutex<HashMap<String, Arc<Semaphore>>>,
}

impl Limiter {
    pub fn new(rates: Rates) -> Limiter {
        Limiter {
            rates,
            ..Limiter::default()
        }
    }

    pub fn rates(&self) -> &Rates {
        &self.rates
    }

    /// Takes a token of `class` for `key`, or says in how many seconds one
    /// is free.
    pub fn take(&self, key: &str, class: Class) -> Result<(), u64> {
        let Rate {
            per_second: rate,
            burst,
        } = self.rates.of(class);
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let bucket = buckets.entry((key.to_owned(), class)).or_insert(Bucket {
            tokens: burst,
            at: now,
        });
        let refill = now.duration_since(bucket.at).as_secs_f64() * rate;
        bucket.tokens = (bucket.tokens + refill).min(burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - bucket.tokens) / rate).ceil().max(1.0) as u64)
        }
    }

    fn sql_slots(&self, key: &str) -> Arc<Semaphore> {
        self.sql
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(key.to_owned())
            .or_insert_with(|| Arc::new(Semaphore::new(SQL_PER_KEY)))
            .clone()
    }
}

/// The middleware: after the key check, before the handler.
pub(crate) async fn limit(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Result<Response, AppError> {
    let class = request
        .extensions()
        .get::<MatchedPath>()
        .and_then(|path| Class::of(path.as_str()));
    let key = request
        .extensions()
        .get::<ApiKeyInfo>()
        .map(|key| key.id.clone());
    let (Some(class), Some(key)) = (class, key) else {
        return Ok(next.run(request).await);
    };
    let limiter = state.limiter();
    if let Err(seconds) = limiter.take(&key, class) {
        let rate = limiter.rates().of(class);
        return Err(AppError::TooManyRequests {
            message: format!(
                "this API key sent more {} requests than {} per second (burst {}); retry in {seconds} s \
                 (the operator sets the rate with `cradle serve --rate {}=<per second>`)",
                class.name(),
                rate.per_second,
                rate.burst,
                class.name().to_lowercase()
            ),
            retry_after: seconds,
        });
    }
    if class != Class::Sql {
        return Ok(next.run(request).await);
    }
    let Ok(_slot) = limiter.sql_slots(&key).try_acquire_owned() else {
        return Err(AppError::TooManyRequests {
            message: format!(
                "this API key has {SQL_PER_KEY} SQL queries running; wait for one to finish"
            ),
            retry_after: 1,
        });
    };
    Ok(next.run(request).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_the_rate() {
        let limiter = Limiter::default();
        let burst = limiter.rates().sql.burst;
        for _ in 0..burst as usize {
            assert!(limiter.take("k", Class::Sql).is_ok());
        }
        let wait = limiter.take("k", Class::Sql).unwrap_err();
        assert!(wait >= 1, "{wait}");
        // Another key and another class have buckets of their own.
        assert!(limiter.take("other", Class::Sql).is_ok());
        assert!(limiter.take("k", Class::Search).is_ok());
    }

    #[test]
    fn rates_are_set_by_class() {
        let mut rates = Rates::default();
        rates.set("search=200").unwrap();
        assert_eq!(rates.search, Rate::per_second(200.0));
        rates.set(" sql = 0.5").unwrap();
        assert_eq!(rates.sql.per_second, 0.5);
        for bad in [
            "search",
            "search=0",
            "search=-1",
            "search=x",
            "mcp=3",
            "sql=inf",
        ] {
            assert!(rates.set(bad).is_err(), "{bad}");
        }
    }
}
