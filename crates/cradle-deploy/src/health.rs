//! `health`: whether a deployment is ready, for the image's `HEALTHCHECK`
//! (which has no shell and no curl): `/ready` must answer 200.

use std::time::Duration;

use crate::http::Client;

/// The port `cradle serve` and the image listen on by default.
pub const DEFAULT_URL: &str = "http://127.0.0.1:9314";

/// Why a deployment is not healthy.
#[derive(Debug, thiserror::Error)]
pub enum HealthError {
    #[error(
        "{url}/ready did not answer: {why}\nhint: is the server running there? `cradle serve` or `docker ps` shows it"
    )]
    Unreachable { url: String, why: String },
    #[error("{url}/ready answered {status}: {body}")]
    NotReady {
        url: String,
        status: u16,
        body: String,
    },
}

/// What `/ready` said.
#[derive(Debug, Clone)]
pub struct Ready {
    pub body: String,
    pub ms: f64,
}

/// Asks `url/ready` once.
pub fn check(url: &str, timeout: Duration) -> Result<Ready, HealthError> {
    let client = Client::new(url, timeout);
    let answer = client
        .get("/ready", &[], None)
        .map_err(|why| HealthError::Unreachable {
            url: client.base().to_owned(),
            why,
        })?;
    if answer.status != 200 {
        return Err(HealthError::NotReady {
            url: client.base().to_owned(),
            status: answer.status,
            body: answer.body.trim().to_owned(),
        });
    }
    Ok(Ready {
        body: answer.body,
        ms: answer.ms,
    })
}
