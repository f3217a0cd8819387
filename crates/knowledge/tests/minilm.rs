//! The in-process embedder reproduces sentence-transformers' own vectors of
//! all-MiniLM-L6-v2 (recorded in `data/reference_embeddings.json` by
//! `data/reference_embeddings.py`): cosine >= 0.999 on every fixed sentence, in one batch
//! (padding must not change a vector) and one by one.

#![allow(clippy::expect_used, reason = "test code: a failed expectation is the test failing")]

use opsgraph_knowledge::embed::cosine;
use opsgraph_knowledge::embed::minilm::{DIMENSIONS, MiniLm, default_dir};

#[derive(serde::Deserialize)]
struct Reference {
    cases: Vec<Case>,
}

#[derive(serde::Deserialize)]
struct Case {
    text: String,
    vector: Vec<f32>,
}

#[test]
fn vectors_match_the_sentence_transformers_reference() {
    let dir = default_dir().expect("model files: run through ./dev test, or set OPSGRAPH_EMBED_MODEL");
    let model = MiniLm::load(&dir).expect("model loads");
    let reference: Reference =
        serde_json::from_str(include_str!("data/reference_embeddings.json")).expect("reference file");
    let texts: Vec<&str> = reference.cases.iter().map(|c| c.text.as_str()).collect();
    let batch = model.embed(&texts).expect("batch");
    assert_eq!(batch.len(), texts.len());
    for (case, got) in reference.cases.iter().zip(&batch) {
        assert_eq!(got.len(), DIMENSIONS);
        let c = cosine(got, &case.vector);
        assert!(c >= 0.999, "cosine {c} for {:?}", &case.text[..case.text.len().min(40)]);
        let norm: f32 = got.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "unit length, got {norm}");
    }
    let single = model.embed(&texts[..1]).expect("one");
    assert!(cosine(&single[0], &batch[0]) > 0.9999, "padding in a batch changes nothing");
    // Unrelated sentences stay apart; the model is not returning a constant.
    assert!(cosine(&batch[0], &batch[3]) < 0.5);
}
