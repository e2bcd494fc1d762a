//! `cradle classify --eval`: hold out a share of the products that came
//! with a valid class code, classify them blind (their code hidden, and
//! hidden from their neighbours too) and compare.

use cradle_classify::{EtimModel, Evaluation};
use cradle_fs::Workspace;
use cradle_vector::VectorIndex;
use rayon::prelude::*;

use crate::EnrichError;
use crate::classify::{classify_product, delivered_label, neighbours, source_attributes};

/// The evaluation and what it was run on.
#[derive(Debug)]
pub struct EvalRun {
    pub evaluation: Evaluation,
    pub labelled: usize,
    pub held_out: usize,
    /// Whether neighbours on embeddings took part.
    pub with_vectors: bool,
}

pub fn evaluate(
    workspace: &Workspace,
    model: &EtimModel,
    share: f64,
    seed: u64,
) -> Result<EvalRun, EnrichError> {
    let lakehouse = workspace.lakehouse_dir();
    let delivery = crate::read::read(&lakehouse)?;
    let labels: Vec<Option<String>> = delivery
        .products
        .iter()
        .map(|p| delivered_label(model, p))
        .collect();
    let hidden: Vec<bool> = delivery
        .products
        .iter()
        .zip(&labels)
        .map(|(p, label)| label.is_some() && cradle_classify::holdout(&p.article_no, share, seed))
        .collect();
    let labelled = labels.iter().filter(|l| l.is_some()).count();
    let held_out = hidden.iter().filter(|h| **h).count();
    if labelled == 0 || held_out == 0 {
        return Err(EnrichError::NothingToEvaluate {
            lakehouse: lakehouse.clone(),
        });
    }
    let path = workspace.vector_index_file();
    if !path.exists() {
        return Err(EnrichError::NotEnriched { path });
    }
    let index = VectorIndex::open(&path).map_err(|source| EnrichError::Vectors {
        path: path.clone(),
        source,
    })?;
    let lookup = crate::vector_lookup(&delivery, &index);
    let is_hidden = |p: usize| hidden[p];
    let results: Vec<(usize, Option<cradle_classify::Classification>)> =
        (0..delivery.products.len())
            .into_par_iter()
            .filter(|&i| hidden[i])
            .map(|i| {
                let near = neighbours(&lookup, &labels, i, &is_hidden);
                let product = &delivery.products[i];
                let attributes = source_attributes(&delivery, product);
                (
                    i,
                    classify_product(model, product, &attributes, &near, false),
                )
            })
            .collect();
    let evaluation = Evaluation::new(
        results
            .iter()
            .map(|(i, c)| (labels[*i].as_deref().unwrap_or_default(), c.as_ref())),
    );
    Ok(EvalRun {
        evaluation,
        labelled,
        held_out,
        with_vectors: true,
    })
}
