//! Which failures pass (and are worth another attempt after a wait) and
//! how long a step may keep trying: `[run]` in `cradle.toml`.

use std::time::Duration;

use cradle_core::config::RunConfig;

/// How a failing step is tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts after the first.
    pub retries: u32,
    /// Wait before the first retry, doubled for each further one.
    pub backoff: Duration,
    /// No retry starts later than this after the first attempt began.
    pub within: Duration,
}

impl RetryPolicy {
    pub fn from_config(config: &RunConfig) -> RetryPolicy {
        RetryPolicy {
            retries: config.retries.unwrap_or(2),
            backoff: Duration::from_secs(config.retry_backoff_seconds.unwrap_or(5)),
            within: Duration::from_secs(config.retry_within_seconds.unwrap_or(600)),
        }
    }

    /// The wait before retry number `retry` (1-based).
    pub fn wait(&self, retry: u32) -> Duration {
        self.backoff
            .saturating_mul(1u32 << retry.saturating_sub(1).min(16))
    }
}

/// Whether trying again may succeed without a fix: an OpenAI-compatible
/// endpoint that could not be reached, timed out or answered 429 or 5xx
/// (after the client's own retries), or a container that was still
/// starting when the time was up.
pub fn is_transient(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        if let Some(error) = cause.downcast_ref::<cradle_openai::OpenAiError>() {
            return match error {
                cradle_openai::OpenAiError::Connection { .. } => true,
                cradle_openai::OpenAiError::Status { status, .. } => {
                    *status == 429 || (500..=599).contains(status)
                }
                _ => false,
            };
        }
        if let Some(error) = cause.downcast_ref::<cradle_embed::EmbedError>() {
            return match error {
                cradle_embed::EmbedError::RemoteConnection { .. } => true,
                cradle_embed::EmbedError::RemoteStatus { status, .. } => {
                    *status == 429 || (500..=599).contains(status)
                }
                _ => false,
            };
        }
        if let Some(error) = cause.downcast_ref::<cradle_deploy::DeployError>() {
            return error.transient;
        }
        false
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_from_the_backoff() {
        let policy = RetryPolicy::from_config(&RunConfig {
            retries: Some(3),
            retry_within_seconds: None,
            retry_backoff_seconds: Some(2),
        });
        assert_eq!(policy.retries, 3);
        assert_eq!(policy.within, Duration::from_secs(600));
        assert_eq!([1, 2, 3].map(|r| policy.wait(r).as_secs()), [2, 4, 8]);
    }

    #[test]
    fn only_passing_failures_are_transient() {
        let status = |status| {
            anyhow::Error::new(cradle_openai::OpenAiError::Status {
                url: "http://x/v1/embeddings".into(),
                status,
                attempts: 6,
                body: String::new(),
            })
            .context("enriching")
        };
        assert!(is_transient(&status(503)));
        let refused = anyhow::Error::new(cradle_embed::EmbedError::RemoteConnection {
            url: "http://x/v1/embeddings".into(),
            attempts: 6,
            source: "connection refused".into(),
        });
        assert!(is_transient(&refused));
        assert!(is_transient(&status(429)));
        assert!(!is_transient(&status(401)));
        assert!(!is_transient(&anyhow::anyhow!("the model is missing")));
    }
}
