//! Vector search: the enrich stage's ANN index (`<data>/index/vectors.idx`,
//! memory-mapped) and the model that made it (`<data>/index/model.json`),
//! which embeds queries on a thread of its own, never on the async
//! runtime.
//!
//! Hybrid ranking is weighted reciprocal rank fusion: a product's score is
//! the sum over the keyword and the vector ranking of `w / (60 + rank)`
//! (rank from 1), over the best [`FUSION_DEPTH`] of each. The keyword
//! weight is 1; the vector weight is 1 too, unless the query holds a
//! number (`3000K`, `IP44`, `24 W`, a code): embedding models read numbers
//! poorly while the index matches them exactly, so there the vector side
//! counts half ([`vector_weight`]) and mostly reorders keyword matches
//! instead of pushing products without the asked value into the top ten.
//! An exact article number or GTIN match stays first, as in keyword search,
//! and products whose whole name the query is follow it before the rest.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use cradle_embed::{EmbedService, LocalOptions, ModelInfo, ModelLocation, Role};
use cradle_fs::Workspace;
use cradle_index::Ranked;
use cradle_vector::VectorIndex;

use crate::error::QueryError;

/// Chunks asked of the ANN index per query; several chunks of one product
/// count once.
pub const VECTOR_CHUNKS: usize = 200;
/// Products of each ranking that take part in fusion.
pub const FUSION_DEPTH: usize = 100;
/// The constant of reciprocal rank fusion.
pub const RRF_K: f32 = 60.0;

/// The vector side of the data.
pub struct Vectors {
    index: Arc<VectorIndex>,
    embed: EmbedService,
}

impl std::fmt::Debug for Vectors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vectors")
            .field("vectors", &self.index.len())
            .field("model", &self.embed.info().name)
            .finish()
    }
}

impl Vectors {
    /// Opens the index and loads the model (blocking: call it on a
    /// blocking thread). `Ok(None)` when the data has no vectors.
    pub fn open(data: &Workspace) -> Result<Option<Vectors>, String> {
        let index_path = data.vector_index_file();
        if !index_path.exists() {
            return Ok(None);
        }
        let index = VectorIndex::open(&index_path).map_err(|e| format!("{e}"))?;
        let location = ModelLocation::load(&data.model_file())
            .map_err(|e| format!("{e}; hint: run `cradle enrich` again to record the model"))?;
        let local = LocalOptions {
            batch_size: 16,
            max_length: None,
            threads: Some(1),
        };
        let embedder = location.open(&local).map_err(|e| format!("{e}"))?;
        let expected = index.dimension();
        if embedder.info().dimension != expected {
            return Err(format!(
                "the model {} makes vectors of dimension {}, the index holds {expected}; run `cradle enrich` again",
                embedder.info().name,
                embedder.info().dimension
            ));
        }
        Ok(Some(Vectors {
            index: Arc::new(index),
            embed: EmbedService::start(embedder),
        }))
    }

    pub fn model(&self) -> &ModelInfo {
        self.embed.info()
    }

    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    pub fn file_bytes(&self) -> u64 {
        self.index.file_bytes()
    }

    /// The query's vector, computed on the model's own thread.
    pub async fn embed_query(&self, query: &str) -> Result<Vec<f32>, QueryError> {
        Ok(self
            .embed
            .embed(vec![query.to_owned()], Role::Query)
            .await
            .map_err(|source| QueryError::internal("embedding the query failed", source))?
            .pop()
            .unwrap_or_default())
    }

    /// Products nearest to `vector`, best first, with the cosine of their
    /// best chunk. With `allowed`, only chunks of those products are
    /// considered while the index is scanned (so a selective filter still
    /// finds its nearest products, not just the few among the overall
    /// nearest).
    pub async fn nearest_products(
        &self,
        vector: Vec<f32>,
        allowed: Option<Arc<HashSet<String>>>,
    ) -> Result<Vec<(String, f32)>, QueryError> {
        let index = self.index.clone();
        let hits = tokio::task::spawn_blocking(move || match allowed {
            None => index.search(&vector, VECTOR_CHUNKS),
            Some(allowed) => {
                let allow = |row: u32| allowed.contains(article_of(index.key(row)));
                index.search_filtered(&vector, VECTOR_CHUNKS, &allow)
            }
        })
        .await
        .map_err(|source| QueryError::internal("the vector search task failed", source))?
        .map_err(|source| QueryError::internal("the vector search failed", source))?;
        let mut products: Vec<(String, f32)> = Vec::new();
        let mut seen: HashMap<String, usize> = HashMap::new();
        for hit in hits {
            let article = article_of(self.index.key(hit.row));
            match seen.get(article) {
                Some(&at) => products[at].1 = products[at].1.max(hit.score),
                None => {
                    seen.insert(article.to_owned(), products.len());
                    products.push((article.to_owned(), hit.score));
                }
            }
        }
        products.sort_by(|a, b| b.1.total_cmp(&a.1));
        products.truncate(FUSION_DEPTH);
        Ok(products)
    }
}

/// The product of an index key (`<article_no>#<chunk id>`).
fn article_of(key: &str) -> &str {
    key.rsplit_once('#').map_or(key, |(article, _)| article)
}

/// The weight of the vector ranking in fusion for `query` (see the module
/// docs): half when a word of the query holds a digit.
pub fn vector_weight(query: &str) -> f32 {
    if query.chars().any(|c| c.is_ascii_digit()) {
        0.5
    } else {
        1.0
    }
}

/// Weighted reciprocal rank fusion of a keyword and a vector ranking (each
/// best first). Products keep what the keyword search said about them;
/// vector matches add `vector` to `matched`.
pub fn fuse(keyword: Vec<Ranked>, vector: Vec<Ranked>, vector_weight: f32) -> Vec<Ranked> {
    let pinned = keyword
        .first()
        .filter(|r| r.matched.iter().any(|m| m == "article_no" || m == "gtin"))
        .map(|r| r.article_no.clone());
    // How far up a product is pinned: a code match above an exact name
    // above the fused order.
    let pin = |r: &Ranked| {
        if Some(&r.article_no) == pinned.as_ref() {
            2
        } else if r.matched.iter().any(|m| m == "exact name") {
            1
        } else {
            0
        }
    };
    let mut fused: Vec<(Ranked, usize)> = Vec::new();
    let mut at: HashMap<String, usize> = HashMap::new();
    for (rank, mut ranked) in keyword.into_iter().enumerate() {
        at.insert(ranked.article_no.clone(), fused.len());
        ranked.score = 1.0 / (RRF_K + rank as f32 + 1.0);
        fused.push((ranked, rank));
    }
    for (rank, mut ranked) in vector.into_iter().enumerate() {
        let score = vector_weight / (RRF_K + rank as f32 + 1.0);
        match at.get(&ranked.article_no) {
            Some(&i) => {
                fused[i].0.score += score;
                fused[i].0.matched.push("vector".into());
            }
            None => {
                at.insert(ranked.article_no.clone(), fused.len());
                ranked.score = score;
                fused.push((ranked, usize::MAX));
            }
        }
    }
    fused.sort_by(|a, b| {
        pin(&b.0)
            .cmp(&pin(&a.0))
            .then(b.0.score.total_cmp(&a.0.score))
            .then(a.1.cmp(&b.1))
    });
    fused.into_iter().map(|(ranked, _)| ranked).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(article: &str, matched: &[&str]) -> Ranked {
        Ranked {
            article_no: article.into(),
            score: 0.0,
            matched: matched.iter().map(|m| (*m).to_owned()).collect(),
        }
    }

    fn order(hits: &[Ranked]) -> Vec<&str> {
        hits.iter().map(|h| h.article_no.as_str()).collect()
    }

    #[test]
    fn rrf_rewards_agreement_and_keeps_exact_matches_first() {
        let keyword = vec![
            hit("A", &["name_de"]),
            hit("B", &["name_de"]),
            hit("C", &["attributes"]),
        ];
        let vector = vec![
            hit("C", &["vector"]),
            hit("D", &["vector"]),
            hit("B", &["vector"]),
        ];
        let fused = fuse(keyword, vector, 1.0);
        // B: 1/62 + 1/63, C: 1/63 + 1/61, A: 1/61, D: 1/62.
        assert_eq!(order(&fused), ["C", "B", "A", "D"]);
        assert!(fused[0].matched.contains(&"vector".to_owned()));
        assert!((fused[0].score - (1.0 / 63.0 + 1.0 / 61.0)).abs() < 1e-6);
        // Weighted: a product only the vector side found no longer
        // overtakes keyword matches.
        let keyword = vec![
            hit("A", &["name_de"]),
            hit("B", &["attributes"]),
            hit("C", &["attributes"]),
        ];
        let vector = vec![hit("D", &["vector"])];
        assert_eq!(
            order(&fuse(keyword.clone(), vector.clone(), 1.0)),
            ["A", "D", "B", "C"]
        );
        let weighted = fuse(keyword, vector, 0.5);
        assert_eq!(order(&weighted), ["A", "B", "C", "D"]);
        assert!((weighted[3].score - 0.5 / 61.0).abs() < 1e-6);
        assert_eq!(vector_weight("Downlight 3000K IP44"), 0.5);
        assert_eq!(vector_weight("warm light for a reading corner"), 1.0);

        let keyword = vec![hit("X", &["article_no"]), hit("B", &["name_de"])];
        let vector = vec![hit("B", &["vector"]), hit("C", &["vector"])];
        assert_eq!(order(&fuse(keyword, vector, 1.0)), ["X", "B", "C"]);

        // A product whose whole name the query is stays ahead of siblings
        // the vector side prefers.
        let keyword = vec![hit("N", &["exact name", "name_de"]), hit("S", &["name_de"])];
        let vector = vec![hit("S", &["vector"]), hit("N", &["vector"])];
        assert_eq!(order(&fuse(keyword, vector, 1.0)), ["N", "S"]);
    }
}
