//! The local model from its GGUF file (installed by `./dev`): the tokenizer built from the
//! file's metadata round-trips text and keeps ChatML's markers whole, and a short reply
//! streams piece by piece, stopping at its bound.

#![allow(clippy::expect_used, reason = "test code: a failed expectation is the test failing")]

use std::sync::OnceLock;

use opsgraph_ai::llm::local::{self, LocalLlm};
use opsgraph_ai::llm::{Finish, Message, Params, Role};

fn model() -> &'static LocalLlm {
    static M: OnceLock<LocalLlm> = OnceLock::new();
    M.get_or_init(|| {
        let path = local::default_path().expect("the local model (./dev installs it; OPSGRAPH_LLM_MODEL)");
        LocalLlm::load(&path).expect("model loads")
    })
}

#[test]
fn the_tokenizer_comes_from_the_file() {
    let m = model();
    assert_eq!(m.tokenizer().get_vocab_size(true), 49_152);
    let markers = m.encode("<|im_start|>user\nHi<|im_end|>").expect("encode");
    assert_eq!(markers.first(), m.tokenizer().token_to_id("<|im_start|>").as_ref());
    assert_eq!(markers.last(), m.tokenizer().token_to_id("<|im_end|>").as_ref());
    for text in ["Hello, world!", "Prices rose 12.5% in 2026 — naïve café ✓", "  two  spaces\nand a newline"] {
        let ids = m.encode(text).expect("encode");
        assert_eq!(m.tokenizer().decode(&ids, false).expect("decode"), text);
    }
    // Digits are split one by one, as SmolLM2's own tokenizer does.
    assert_eq!(m.encode("2026").expect("encode").len(), 4);
    let prompt = m.prompt(&[Message::new(Role::System, "Be brief."), Message::new(Role::User, "Hi")]);
    assert_eq!(
        prompt,
        "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
    );
}

#[test]
fn a_short_reply_streams_token_by_token() {
    let m = model();
    let messages = [
        Message::new(Role::System, "You are a helpful assistant. Answer in one short sentence."),
        Message::new(Role::User, "What is the capital of France?"),
    ];
    let mut pieces: Vec<String> = vec![];
    let p = Params { max_tokens: 24, ..Params::default() };
    let done = m
        .generate(&messages, &p, |piece| {
            pieces.push(piece.to_owned());
            true
        })
        .expect("generate");
    assert!(pieces.len() >= 2, "streamed in pieces: {pieces:?}");
    assert_eq!(pieces.concat(), done.text);
    assert!(done.tokens_out <= 24 && done.tokens_out >= pieces.len());
    assert!(done.tokens_in > 10);
    assert!(done.text.contains("Paris"), "{:?}", done.text);
    assert!(matches!(done.finish, Finish::Stop | Finish::Length));

    // The caller can stop it.
    let mut seen = 0;
    let stopped = m
        .generate(&messages, &p, |_| {
            seen += 1;
            seen < 2
        })
        .expect("generate");
    assert_eq!((stopped.finish, seen), (Finish::Cancelled, 2));
}
