//! CLIP's byte-level BPE tokenizer, read from a repository's `vocab.json` and `merges.txt`.

use std::collections::HashMap;
use std::path::Path;

use regex::Regex;
use unicode_normalization::UnicodeNormalization;

/// Tokens a CLIP text encoder reads per prompt, start and end tokens included.
pub const CONTEXT_LENGTH: usize = 77;

#[derive(Debug, thiserror::Error)]
pub enum TokenizerError {
    #[error("could not read {path}: {error}")]
    Read { path: String, error: std::io::Error },
    #[error("{path} is not a valid tokenizer file: {message}")]
    Invalid { path: String, message: String },
}

/// Encodes prompts into CLIP token ids.
pub struct ClipTokenizer {
    encoder: HashMap<String, u32>,
    ranks: HashMap<(String, String), usize>,
    byte_symbols: [char; 256],
    pattern: Regex,
    start: u32,
    end: u32,
    pad: u32,
}

/// Maps each byte to a printable character, as GPT-2 and CLIP do, so that BPE
/// works on text without whitespace or control characters.
fn byte_symbols() -> [char; 256] {
    let mut printable: Vec<u32> = ('!' as u32..='~' as u32).collect();
    printable.extend('¡' as u32..='¬' as u32);
    printable.extend('®' as u32..='ÿ' as u32);
    let mut symbols = ['\0'; 256];
    let mut next = 256;
    for byte in 0..256u32 {
        symbols[byte as usize] = if printable.contains(&byte) {
            char::from_u32(byte).unwrap()
        } else {
            let symbol = char::from_u32(next).unwrap();
            next += 1;
            symbol
        };
    }
    symbols
}

impl ClipTokenizer {
    /// Reads `vocab.json` and `merges.txt`. `pad_token` is the padding token's
    /// text: `<|endoftext|>` for SD 1.5, `!` for SD 2 and SDXL's second encoder.
    pub fn from_files(vocab: &Path, merges: &Path, pad_token: &str) -> Result<Self, TokenizerError> {
        let read = |path: &Path| {
            std::fs::read_to_string(path).map_err(|error| TokenizerError::Read {
                path: path.display().to_string(),
                error,
            })
        };
        let invalid = |path: &Path, message: String| TokenizerError::Invalid {
            path: path.display().to_string(),
            message,
        };

        let encoder: HashMap<String, u32> =
            serde_json::from_str(&read(vocab)?).map_err(|error| invalid(vocab, error.to_string()))?;
        let mut ranks = HashMap::new();
        for (rank, line) in read(merges)?
            .lines()
            .filter(|line| !line.starts_with("#version") && !line.is_empty())
            .enumerate()
        {
            let (left, right) = line
                .split_once(' ')
                .ok_or_else(|| invalid(merges, format!("line {:?} is not a merge", line)))?;
            ranks.insert((left.to_owned(), right.to_owned()), rank);
        }
        let id = |token: &str| {
            encoder
                .get(token)
                .copied()
                .ok_or_else(|| invalid(vocab, format!("{token} is missing")))
        };
        let (start, end, pad) = (id("<|startoftext|>")?, id("<|endoftext|>")?, id(pad_token)?);
        let pattern = Regex::new(
            r"(?i)<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+",
        )
        .expect("CLIP's pre-tokenization pattern compiles");
        Ok(Self {
            encoder,
            ranks,
            byte_symbols: byte_symbols(),
            pattern,
            start,
            end,
            pad,
        })
    }

    /// Encodes a prompt as `CONTEXT_LENGTH` ids: the start token, at most 75
    /// prompt tokens, the end token, then padding. Longer prompts are cut.
    pub fn encode(&self, prompt: &str) -> Vec<u32> {
        // NFC first, as transformers' CLIP tokenizer does, so that an accent typed
        // as a combining mark encodes like the precomposed letter.
        let composed: String = prompt.nfc().collect();
        let text = composed.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
        let mut ids = vec![self.start];
        for word in self.pattern.find_iter(&text) {
            let symbols: String = word
                .as_str()
                .bytes()
                .map(|byte| self.byte_symbols[byte as usize])
                .collect();
            for token in self.bpe(&symbols) {
                if let Some(id) = self.encoder.get(&token) {
                    ids.push(*id);
                }
            }
        }
        ids.truncate(CONTEXT_LENGTH - 1);
        ids.push(self.end);
        ids.resize(CONTEXT_LENGTH, self.pad);
        ids
    }

    /// Splits one pre-tokenized word into BPE tokens, the last marked with `</w>`.
    fn bpe(&self, word: &str) -> Vec<String> {
        let mut parts: Vec<String> = word.chars().map(String::from).collect();
        if let Some(last) = parts.last_mut() {
            last.push_str("</w>");
        }
        while parts.len() > 1 {
            let best = (0..parts.len() - 1)
                .filter_map(|i| {
                    self.ranks
                        .get(&(parts[i].clone(), parts[i + 1].clone()))
                        .map(|rank| (*rank, i))
                })
                .min();
            let Some((_, index)) = best else { break };
            let (left, right) = (parts[index].clone(), parts[index + 1].clone());
            // Merge every occurrence of the best pair, left to right.
            let mut merged = Vec::with_capacity(parts.len());
            let mut i = 0;
            while i < parts.len() {
                if i + 1 < parts.len() && parts[i] == left && parts[i + 1] == right {
                    merged.push(format!("{left}{right}"));
                    i += 2;
                } else {
                    merged.push(parts[i].clone());
                    i += 1;
                }
            }
            parts = merged;
        }
        parts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokenizer(pad: &str) -> ClipTokenizer {
        let assets = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/clip");
        ClipTokenizer::from_files(
            &Path::new(assets).join("vocab.json"),
            &Path::new(assets).join("merges.txt"),
            pad,
        )
        .unwrap()
    }

    #[test]
    fn encodes_known_ids_and_pads() {
        let ids = tokenizer("<|endoftext|>").encode("a photo of a cat");
        // Ids of CLIP's vocabulary: a=320, photo=1125, of=539, cat=2368.
        assert_eq!(&ids[..7], &[49406, 320, 1125, 539, 320, 2368, 49407]);
        assert_eq!(ids.len(), CONTEXT_LENGTH);
        assert!(ids[7..].iter().all(|&id| id == 49407));
    }

    #[test]
    fn combining_accents_encode_like_precomposed() {
        let tokenizer = tokenizer("<|endoftext|>");
        assert_eq!(
            tokenizer.encode("cafe\u{301} au lait"),
            tokenizer.encode("caf\u{e9} au lait")
        );
    }

    #[test]
    fn pads_with_configured_token_and_cuts_long_prompts() {
        let ids = tokenizer("!").encode("  A   Photo\n");
        assert_eq!(&ids[..4], &[49406, 320, 1125, 49407]);
        assert_eq!(ids[4], 0);
        let long = tokenizer("!").encode(&"cat ".repeat(200));
        assert_eq!(long.len(), CONTEXT_LENGTH);
        assert_eq!(long[76], 49407);
    }
}
