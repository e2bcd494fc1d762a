//! An embedder on a thread of its own, for async callers: embedding is
//! seconds of CPU work that must never run on the async runtime's threads.
//! Requests queue on a channel; each answer comes back on a oneshot.
//! Requests that queued while the thread was busy are embedded together in
//! one call (up to [`MAX_BATCH_TEXTS`] texts): many short queries in one
//! forward pass cost less than one pass each, so a server under load
//! answers more of them.

use std::sync::Arc;
use std::sync::mpsc;

use tokio::sync::oneshot;

use crate::{EmbedError, Embedder, ModelInfo, Role};

/// Texts embedded in one call at most when requests are combined.
pub const MAX_BATCH_TEXTS: usize = 64;

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
                while let Ok(first) = queue.recv() {
                    let mut waiting = vec![first];
                    let mut texts = waiting[0].texts.len();
                    while texts < MAX_BATCH_TEXTS {
                        match queue.try_recv() {
                            Ok(job) => {
                                texts += job.texts.len();
                                waiting.push(job);
                            }
                            Err(_) => break,
                        }
                    }
                    for role in [Role::Query, Role::Passage] {
                        let (group, rest): (Vec<Job>, Vec<Job>) =
                            waiting.into_iter().partition(|job| job.role == role);
                        waiting = rest;
                        if !group.is_empty() {
                            run_together(embedder.as_ref(), group, role);
                        }
                    }
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

/// Embeds the texts of several jobs in one call and hands each job its
/// vectors; if that call fails, each job is run alone, so one bad request
/// gets its own error and the others their vectors.
fn run_together(embedder: &dyn Embedder, jobs: Vec<Job>, role: Role) {
    let alone = |job: Job| {
        let texts: Vec<&str> = job.texts.iter().map(String::as_str).collect();
        let result = embedder.embed(&texts, role);
        // The caller may have given up waiting; that is fine.
        let _ = job.answer.send(result);
    };
    if jobs.len() == 1 {
        jobs.into_iter().for_each(alone);
        return;
    }
    let texts: Vec<&str> = jobs
        .iter()
        .flat_map(|job| job.texts.iter().map(String::as_str))
        .collect();
    match embedder.embed(&texts, role) {
        Ok(vectors) if vectors.len() == texts.len() => {
            let mut vectors = vectors.into_iter();
            for job in jobs {
                let own: Vec<Vec<f32>> = vectors.by_ref().take(job.texts.len()).collect();
                let _ = job.answer.send(Ok(own));
            }
        }
        _ => jobs.into_iter().for_each(alone),
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

    /// Fails every call that includes the text "fail"; counts calls.
    struct Picky(ModelInfo, std::sync::atomic::AtomicUsize);

    impl Embedder for Picky {
        fn info(&self) -> &ModelInfo {
            &self.0
        }
        fn embed(&self, texts: &[&str], _role: Role) -> Result<Vec<Vec<f32>>, EmbedError> {
            self.1.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            // Slow enough for requests to queue behind the first.
            std::thread::sleep(std::time::Duration::from_millis(5));
            if texts.contains(&"fail") {
                return Err(EmbedError::Setting {
                    setting: "text",
                    what: "refused".into(),
                });
            }
            Ok(texts.iter().map(|t| vec![t.len() as f32]).collect())
        }
    }

    #[test]
    fn queued_requests_are_embedded_together_and_errors_stay_their_own() {
        let info = ModelInfo {
            name: "picky".into(),
            backend: "local".into(),
            dimension: 1,
            revision: "r".into(),
        };
        let calls = Arc::new(Picky(info, std::sync::atomic::AtomicUsize::new(0)));
        struct Shared(Arc<Picky>);
        impl Embedder for Shared {
            fn info(&self) -> &ModelInfo {
                self.0.info()
            }
            fn embed(&self, texts: &[&str], role: Role) -> Result<Vec<Vec<f32>>, EmbedError> {
                self.0.embed(texts, role)
            }
        }
        let service = EmbedService::start(Box::new(Shared(calls.clone())));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        let embed_all = |texts: Vec<String>| {
            runtime.block_on(async {
                let mut tasks = Vec::new();
                for text in texts {
                    let service = service.clone();
                    tasks.push(tokio::spawn(async move {
                        service.embed(vec![text], Role::Query).await
                    }));
                }
                let mut results = Vec::new();
                for task in tasks {
                    results.push(task.await.unwrap());
                }
                results
            })
        };
        let texts: Vec<String> = (1..=40).map(|n| "x".repeat(n)).collect();
        let results = embed_all(texts.clone());
        for (text, result) in texts.iter().zip(&results) {
            assert_eq!(result.as_ref().unwrap(), &vec![vec![text.len() as f32]]);
        }
        // 40 requests that queued behind each other took fewer calls.
        let made = calls.1.load(std::sync::atomic::Ordering::SeqCst);
        assert!(made < 40, "{made} calls");

        // A request the model refuses gets its error; those that were
        // embedded together with it still get their vectors.
        let mixed: Vec<String> = ["a", "bb", "fail", "cccc"].map(str::to_owned).to_vec();
        let results = embed_all(mixed.clone());
        for (text, result) in mixed.iter().zip(&results) {
            if text == "fail" {
                assert!(result.is_err());
            } else {
                assert_eq!(result.as_ref().unwrap(), &vec![vec![text.len() as f32]]);
            }
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
