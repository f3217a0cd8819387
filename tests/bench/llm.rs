//! The local language model (SmolLM2-135M-Instruct, Q4_1, in process with candle) on this
//! machine: load time, and over a few runs of one prompt, time to first token and
//! generated tokens per second (greedy, up to 128 tokens).
//!
//! Run: `./dev bench llm`. `BENCH_ITERATIONS` (default 5) sets the runs.

#![allow(clippy::expect_used, reason = "benchmark code: a failed expectation is the run failing, with its message")]
#![allow(clippy::print_stdout)] // a benchmark reports its figures on stdout

use std::time::{Duration, Instant};

use opsgraph_ai::llm::local::{self, LocalLlm};
use opsgraph_ai::llm::{Message, Params, Role};

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

fn main() {
    let path = local::default_path().expect("the local model (./dev installs it)");
    let t = Instant::now();
    let model = LocalLlm::load(&path).expect("load");
    println!("model: {} loaded in {:.2} s", local::MODEL, t.elapsed().as_secs_f64());
    let runs: usize = std::env::var("BENCH_ITERATIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(5);
    let messages = [
        Message::new(Role::System, "You are a helpful assistant for a consulting company."),
        Message::new(Role::User, "Write a short checklist for the first day of a new project."),
    ];
    let p = Params { max_tokens: 128, ..Params::default() };
    let (mut first, mut rates, mut prompt_tokens) = (vec![], vec![], 0);
    for _ in 0..runs {
        let start = Instant::now();
        let mut ttft = None;
        let done = model
            .generate(&messages, &p, |_| {
                ttft.get_or_insert_with(|| start.elapsed());
                true
            })
            .expect("generate");
        let total = start.elapsed();
        let ttft = ttft.unwrap_or(total);
        first.push(ttft);
        let decode = (total - ttft).as_secs_f64().max(1e-9);
        rates.push(done.tokens_out.saturating_sub(1) as f64 / decode);
        prompt_tokens = done.tokens_in;
    }
    first.sort();
    rates.sort_by(f64::total_cmp);
    println!(
        "time to first token ({prompt_tokens} prompt tokens): p50 {:.1} ms, p95 {:.1} ms over {runs} runs",
        percentile(&first, 0.5),
        percentile(&first, 0.95)
    );
    println!(
        "generation: {:.1} tokens/s median (min {:.1}, max {:.1}), greedy, up to {} tokens",
        rates[rates.len() / 2],
        rates[0],
        rates[rates.len() - 1],
        p.max_tokens
    );
}
