//! Retrieval quality on the labelled set (`tests/data/search_eval`): nDCG@10, recall@10 and
//! MRR of KEYWORD, SEMANTIC and HYBRID, printed (`./dev eval search` shows them) and held
//! above floors, so a change that makes search worse fails here.

#![allow(clippy::print_stdout, reason = "the evaluation reports its figures")]

use opsgraph_e2e::TestApp;
use opsgraph_e2e::eval::{self, Scores};

#[tokio::test]
async fn hybrid_beats_its_parts_on_the_labelled_set() {
    let app = TestApp::spawn().await;
    let (owner, slugs) = eval::load(&app).await;
    let mut all: Vec<(&str, Scores)> = vec![];
    println!("search evaluation: {} documents, {} questions", slugs.len(), eval::queries().len());
    println!("| mode | nDCG@10 | recall@10 | MRR |\n|---|---|---|---|");
    for mode in ["KEYWORD", "SEMANTIC", "HYBRID"] {
        let s = eval::score(&app, &owner, &slugs, mode).await;
        println!("| {mode} | {:.3} | {:.3} | {:.3} |", s.ndcg, s.recall, s.mrr);
        all.push((mode, s));
    }
    let [(_, keyword), (_, semantic), (_, hybrid)] = all[..] else { unreachable!("three modes") };
    assert!(hybrid.ndcg > keyword.ndcg && hybrid.ndcg > semantic.ndcg, "HYBRID beats both parts: {all:?}");
    assert!(hybrid.recall >= keyword.recall.max(semantic.recall), "{all:?}");
    // Floors a little under today's figures (KEYWORD 0.650, SEMANTIC 0.835, HYBRID 0.841).
    for (mode, s, floor) in [("KEYWORD", keyword, 0.62), ("SEMANTIC", semantic, 0.80), ("HYBRID", hybrid, 0.82)] {
        assert!(s.ndcg >= floor, "{mode} nDCG@10 {:.3} fell under {floor}", s.ndcg);
    }
    app.finish().await;
}
