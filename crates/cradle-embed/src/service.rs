//! An embedder on a thread of its own, for async callers: embedding is
//! seconds of CPU work that must never run on the async runtime's threads.
//! Requests queue on a channel; each answer comes back on a oneshot.

use std::sync::Arc;
use std::sync::mpsc;

use tokio::sync::oneshot;

use crate::{EmbedError, Embedder, ModelInfo, Role};

struct Job {
    texts: Vec<String>,
    role: Role,
    answer: oneshot::Sender<Result<Vec<Vec<f32>>, EmbedError>>,
}

struct Inner {
    info: ModelInfo,
    jobs: mpsc::Sender<Job>,
}

/// A cloneable handle to an embedder running on a dedicated thread. The
/// thread ends when the last handle is dropped.
#[derive(Clone)]
pub struct EmbedService {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for EmbedService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbedService")
            .field("info", &self.inner.info)
            .finish()
    }
}

impl EmbedService {
    /// Moves `embedder` onto a new thread named `cradle-embed-service`.
    pub fn start(embedder: Box<dyn Embedder>) -> EmbedService {
        let info = embedder.info().clone();
        let (jobs, queue) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("cradle-embed-service".into())
            .spawn(move || {
                for job in queue {
                    let texts: Vec<&str> = job.texts.iter().map(String::as_str).collect();
                    let result = embedder.embed(&texts, job.role);
                    // The caller may have given up waiting; that is fine.
                    let _ = job.answer.send(result);
                }
            })
            .unwrap_or_else(|error| panic!("cannot start the embedding thread: {error}"));
        EmbedService {
            inner: Arc::new(Inner { info, jobs }),
        }
    }

    pub fn info(&self) -> &ModelInfo {
        &self.inner.info
    }

    /// Embeds `texts` on the service's thread; the calling task waits
    /// without blocking its runtime.
    pub async fn embed(&self, texts: Vec<String>, role: Role) -> Result<Vec<Vec<f32>>, EmbedError> {
        let stopped = || EmbedError::ServiceStopped {
            model: self.inner.info.name.clone(),
        };
        let (answer, receive) = oneshot::channel();
        self.inner
            .jobs
            .send(Job {
                texts,
                role,
                answer,
            })
            .map_err(|_| stopped())?;
        receive.await.map_err(|_| stopped())?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Embeds a text as (length, thread-is-the-service-thread).
    struct Probe(ModelInfo);

    impl Embedder for Probe {
        fn info(&self) -> &ModelInfo {
            &self.0
        }
        fn embed(&self, texts: &[&str], role: Role) -> Result<Vec<Vec<f32>>, EmbedError> {
            let on_service = std::thread::current().name() == Some("cradle-embed-service");
            let role = if role == Role::Query { 1.0 } else { 0.0 };
            Ok(texts
                .iter()
                .map(|t| vec![t.len() as f32, f32::from(u8::from(on_service)), role])
                .collect())
        }
    }

    #[test]
    fn embeds_on_its_own_thread_from_any_clone() {
        let info = ModelInfo {
            name: "probe".into(),
            backend: "local".into(),
            dimension: 3,
            revision: "r".into(),
        };
        let service = EmbedService::start(Box::new(Probe(info.clone())));
        let clone = service.clone();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let (a, b) = runtime.block_on(async {
            tokio::join!(
                service.embed(vec!["abc".into(), "de".into()], Role::Query),
                clone.embed(vec!["x".into()], Role::Passage),
            )
        });
        assert_eq!(a.unwrap(), vec![vec![3.0, 1.0, 1.0], vec![2.0, 1.0, 1.0]]);
        assert_eq!(b.unwrap(), vec![vec![1.0, 1.0, 0.0]]);
        assert_eq!(clone.info(), &info);
    }
}
