//! The small HTTP client `health` and `verify` use: one request, status
//! and body, every status an answer (not an error), bounded in time.

use std::time::Duration;

/// An answer: status, body and the time it took.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: String,
    pub ms: f64,
}

impl Answer {
    /// The body as JSON (`Null` when it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// Requests to one deployment.
#[derive(Debug, Clone)]
pub struct Client {
    agent: ureq::Agent,
    base: String,
}

impl Client {
    /// A client for the deployment at `base` (`http://host:port`).
    pub fn new(base: &str, timeout: Duration) -> Client {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(timeout))
            .max_redirects(0)
            .user_agent(concat!("cradle/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Client {
            agent,
            base: base.trim_end_matches('/').to_owned(),
        }
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// `GET path` with query pairs and, if given, the API key.
    pub fn get(
        &self,
        path: &str,
        query: &[(&str, &str)],
        key: Option<&str>,
    ) -> Result<Answer, String> {
        let started = std::time::Instant::now();
        let mut request = self.agent.get(format!("{}{path}", self.base));
        for (name, value) in query {
            request = request.query(*name, *value);
        }
        if let Some(key) = key {
            request = request.header("Authorization", format!("Bearer {key}"));
        }
        answer(request.call(), started)
    }

    /// `POST path` with a JSON body, extra headers and, if given, the API key.
    pub fn post_json(
        &self,
        path: &str,
        body: &serde_json::Value,
        headers: &[(&str, &str)],
        key: Option<&str>,
    ) -> Result<Answer, String> {
        let started = std::time::Instant::now();
        let mut request = self
            .agent
            .post(format!("{}{path}", self.base))
            .header("Content-Type", "application/json");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(key) = key {
            request = request.header("Authorization", format!("Bearer {key}"));
        }
        answer(request.send(body.to_string()), started)
    }
}

fn answer(
    result: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    started: std::time::Instant,
) -> Result<Answer, String> {
    let mut response = result.map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let body = response
        .body_mut()
        .read_to_string()
        .map_err(|e| format!("cannot read the answer: {e}"))?;
    Ok(Answer {
        status,
        body,
        ms: started.elapsed().as_secs_f64() * 1000.0,
    })
}
