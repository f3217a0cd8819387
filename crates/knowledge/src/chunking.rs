//! Splitting a document into retrieval chunks: markdown-aware (headings, paragraphs,
//! sentences), sized in tokens of the embedding model's own tokenizer so no chunk is
//! truncated when embedded, with an overlap so a sentence cut at a boundary is whole in one
//! of the two chunks. Offsets are in characters of the body, for citations.

use text_splitter::{ChunkConfig, MarkdownSplitter};
use tokenizers::Tokenizer;

/// Most tokens in a chunk (the model reads 256 with its two special tokens).
pub const MAX_TOKENS: usize = 200;
/// Fewest tokens a chunk aims for (a smaller one ends its section).
pub const MIN_TOKENS: usize = 100;
/// Tokens shared by consecutive chunks.
pub const OVERLAP_TOKENS: usize = 30;

/// One chunk of a body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece {
    /// Its place in the document, from 0.
    pub position: i32,
    /// Its text.
    pub text: String,
    /// Its length in the model's tokens.
    pub token_count: i32,
    /// First character (of the body).
    pub char_start: i32,
    /// One past its last character.
    pub char_end: i32,
}

/// Splits `title` and `body` into chunks counted with `tokenizer` (with none, about four
/// characters a token). The title heads the first chunk's text so short documents are
/// found by their title too; offsets stay those of the body.
pub fn split(body: &str, tokenizer: Option<&Tokenizer>) -> Vec<Piece> {
    let count = |t: &str| -> usize {
        match tokenizer {
            Some(tok) => tok.encode_fast(t, false).map(|e| e.len()).unwrap_or(t.len() / 4),
            None => t.chars().count().div_ceil(4),
        }
    };
    let chunks: Vec<(usize, String)> = match tokenizer {
        Some(tok) => match ChunkConfig::new(MIN_TOKENS..MAX_TOKENS).with_sizer(tok).with_overlap(OVERLAP_TOKENS) {
            Ok(cfg) => collect(&MarkdownSplitter::new(cfg), body),
            Err(_) => vec![],
        },
        None => match ChunkConfig::new(MIN_TOKENS * 4..MAX_TOKENS * 4).with_overlap(OVERLAP_TOKENS * 4) {
            Ok(cfg) => collect(&MarkdownSplitter::new(cfg), body),
            Err(_) => vec![],
        },
    };
    chunks
        .into_iter()
        .enumerate()
        .map(|(i, (start, text))| {
            let len = text.chars().count();
            Piece {
                position: i as i32,
                token_count: count(&text) as i32,
                char_start: start as i32,
                char_end: (start + len) as i32,
                text,
            }
        })
        .collect()
}

fn collect<S: text_splitter::ChunkSizer>(splitter: &MarkdownSplitter<S>, body: &str) -> Vec<(usize, String)> {
    splitter.chunk_char_indices(body).map(|c| (c.char_offset, c.chunk.to_owned())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_cover_the_body_in_order_with_char_offsets() {
        let body = "# Expenses\n\nSubmit receipts within 30 days. ".repeat(60) + "Café naïve — done.";
        let pieces = split(&body, None);
        assert!(pieces.len() > 3, "a long body makes several chunks");
        let chars: Vec<char> = body.chars().collect();
        for p in &pieces {
            let slice: String = chars[p.char_start as usize..p.char_end as usize].iter().collect();
            assert_eq!(slice, p.text, "offsets are characters of the body");
            assert!(p.token_count as usize <= MAX_TOKENS);
        }
        assert!(
            pieces.windows(2).all(|w| w[0].char_start < w[1].char_start && w[1].char_start < w[0].char_end),
            "consecutive chunks overlap and move forward"
        );
        assert_eq!(pieces.last().map(|p| p.char_end as usize), Some(chars.len()));
        assert!(split("", None).is_empty());
        assert_eq!(split("Short note.", None).len(), 1);
    }
}
