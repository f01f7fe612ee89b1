//! The free-form scanner: key IDs in any text (dotfiles, `.env` files, shell
//! history, source trees).
//!
//! Matching follows the rules of the established secret scanners (gitleaks,
//! trufflehog): a credential prefix followed by 16 base32 characters, on word
//! boundaries; `…EXAMPLE` IDs and low-entropy placeholders are ignored. A
//! 40-character base64 string with high entropy near the key ID (the shape
//! of a secret access key) raises the confidence.
//!
//! Speed: a SIMD multi-literal search (aho-corasick's Teddy) finds the
//! prefixes; only those few positions are verified by hand, so a file is
//! scanned at memory bandwidth, in one pass, without splitting it into lines.
//! Line numbers are counted only up to each hit.
//!
//! Nothing this module returns contains text from the file other than the
//! key ID itself: "a secret is near" is a boolean.

use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

use super::keyid::{self, KeyPrefix};

/// Characters after the prefix.
const KEY_BODY_LEN: usize = 16;
/// Every matched key ID is this long (`A3T` + one character + 16 is 20 too).
pub const KEY_ID_LEN: usize = 20;
/// gitleaks' minimum entropy for an access key ID.
const MIN_KEY_ENTROPY: f64 = 3.0;
/// trufflehog's minimum entropy for a secret access key.
const MIN_SECRET_ENTROPY: f64 = 4.25;
/// A secret access key is exactly this many base64 characters.
const SECRET_LEN: usize = 40;
/// Session tokens are long base64 strings (hundreds of characters).
const MIN_SESSION_TOKEN_LEN: usize = 100;
/// How far from a key ID to look for its secret or session token: this many
/// lines either side…
const CONTEXT_LINES: usize = 5;
/// …but never more than this many bytes either side (minified JSON, 1 MB
/// lines).
const CONTEXT_BYTES: usize = 4096;

const PREFIXES: [&str; 6] = ["AKIA", "ASIA", "ABIA", "ACCA", "APKA", "A3T"];

static PREFIX_SEARCH: LazyLock<AhoCorasick> = LazyLock::new(|| {
    AhoCorasick::builder()
        .match_kind(MatchKind::LeftmostFirst)
        .kind(Some(AhoCorasickKind::DFA))
        .build(PREFIXES)
        .expect("six fixed short literals always build an automaton")
});

/// One key ID found in a buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyHit {
    /// The key ID (20 characters: prefix and base32 body).
    pub key_id: String,
    pub prefix: KeyPrefix,
    /// 1-based line number.
    pub line: usize,
    /// 1-based column, in Unicode code points (bytes that are not UTF-8
    /// count one each).
    pub column: usize,
    /// A 40-character high-entropy base64 string (the shape of a secret
    /// access key) within a few lines.
    pub secret_nearby: bool,
    /// A session token (a base64 string of 100+ characters) or a
    /// `session_token`/`security_token` setting within a few lines.
    pub session_token_nearby: bool,
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn is_base64(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'+' || b == b'/'
}

/// Checks a prefix match at `start`: the whole ID must be there, in the
/// alphabet, on word boundaries. Returns the end of the ID.
fn verify(buf: &[u8], start: usize, prefix_len: usize) -> Option<usize> {
    if start > 0 && is_word(buf[start - 1]) {
        return None;
    }
    let end = start + KEY_ID_LEN;
    if end > buf.len() {
        return None;
    }
    let mut body_start = start + prefix_len;
    if prefix_len == 3 {
        // A3T plus one more character from [A-Z0-9].
        let c = buf[body_start];
        if !(c.is_ascii_uppercase() || c.is_ascii_digit()) {
            return None;
        }
        body_start += 1;
    }
    debug_assert_eq!(end - body_start, KEY_BODY_LEN);
    if !buf[body_start..end].iter().all(|&b| keyid::is_base32(b)) {
        return None;
    }
    if end < buf.len() && is_word(buf[end]) {
        return None;
    }
    Some(end)
}

/// Finds every credential key ID in `buf`.
///
/// Never panics, whatever the bytes; does not need UTF-8.
pub fn scan(buf: &[u8]) -> Vec<KeyHit> {
    let mut hits = Vec::new();
    // Line counting is incremental: from the previous hit to this one.
    let mut counted_to = 0usize;
    let mut line = 1usize;
    for m in PREFIX_SEARCH.find_iter(buf) {
        let start = m.start();
        let Some(end) = verify(buf, start, m.len()) else {
            continue;
        };
        let id = &buf[start..end];
        // The ID is ASCII by construction.
        let key_id = String::from_utf8_lossy(id).into_owned();
        if keyid::is_documented_example(&key_id) || keyid::shannon_entropy(id) < MIN_KEY_ENTROPY {
            continue;
        }
        let Some(prefix) = KeyPrefix::of(&key_id) else {
            continue;
        };
        line += memchr::memchr_iter(b'\n', &buf[counted_to..start]).count();
        counted_to = start;
        let line_start = memchr::memrchr(b'\n', &buf[..start]).map_or(0, |i| i + 1);
        let column = 1 + buf[line_start..start]
            .iter()
            .filter(|&&b| b & 0xC0 != 0x80)
            .count();
        let (lo, hi) = context(buf, start, end);
        let around = &buf[lo..hi];
        hits.push(KeyHit {
            key_id,
            prefix,
            line,
            column,
            secret_nearby: has_secret(around),
            session_token_nearby: has_session_token(around),
        });
    }
    hits
}

/// The byte range `CONTEXT_LINES` lines either side of `start..end`, capped
/// at `CONTEXT_BYTES` either side.
fn context(buf: &[u8], start: usize, end: usize) -> (usize, usize) {
    let floor = start.saturating_sub(CONTEXT_BYTES);
    let mut lo = start;
    for _ in 0..=CONTEXT_LINES {
        match memchr::memrchr(b'\n', &buf[floor..lo]) {
            Some(i) => lo = floor + i,
            None => {
                lo = floor;
                break;
            }
        }
    }
    let ceil = (end + CONTEXT_BYTES).min(buf.len());
    let mut hi = end;
    for _ in 0..=CONTEXT_LINES {
        match memchr::memchr(b'\n', &buf[hi..ceil]) {
            Some(i) => hi = hi + i + 1,
            None => {
                hi = ceil;
                break;
            }
        }
    }
    (lo, hi.min(buf.len()))
}

/// Maximal runs of base64 characters in `bytes`.
fn base64_runs(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    bytes.split(|&b| !is_base64(b)).filter(|r| !r.is_empty())
}

/// A 40-character base64 run with a secret key's entropy (lowercase hex such
/// as a git commit ID stays below it).
fn has_secret(around: &[u8]) -> bool {
    base64_runs(around)
        .any(|r| r.len() == SECRET_LEN && keyid::shannon_entropy(r) >= MIN_SECRET_ENTROPY)
}

fn has_session_token(around: &[u8]) -> bool {
    const NAMES: [&[u8]; 3] = [b"session_token", b"sessiontoken", b"security_token"];
    if base64_runs(around).any(|r| r.len() >= MIN_SESSION_TOKEN_LEN) {
        return true;
    }
    NAMES.iter().any(|n| contains_ci(around, n))
}

fn contains_ci(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Made-up key IDs of the real shape (base32 body, high entropy).
    const AKIA: &str = "AKIA2E3RX7TBDLQ6WMPZ";
    const ASIA: &str = "ASIA5KXQ7RZP3MWEVN2T";
    const SECRET: &str = "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";

    fn ids(buf: &[u8]) -> Vec<String> {
        scan(buf).into_iter().map(|h| h.key_id).collect()
    }

    #[test]
    fn finds_each_prefix() {
        let text = format!(
            "a={AKIA}\nb={ASIA}\nc=ABIA2E3RX7TBDLQ6WMPZ\nd=ACCA2E3RX7TBDLQ6WMPZ\n\
             e=APKA2E3RX7TBDLQ6WMPZ\nf=A3TX2E3RX7TBDLQ6WMPZ\n"
        );
        let hits = scan(text.as_bytes());
        let got: Vec<_> = hits.iter().map(|h| (h.prefix, h.line)).collect();
        assert_eq!(
            got,
            vec![
                (KeyPrefix::LongTerm, 1),
                (KeyPrefix::Temporary, 2),
                (KeyPrefix::BearerToken, 3),
                (KeyPrefix::ServiceCredential, 4),
                (KeyPrefix::KeyPair, 5),
                (KeyPrefix::Legacy, 6),
            ]
        );
    }

    #[test]
    fn word_boundaries() {
        // Embedded in a longer word: not a key ID.
        assert!(ids(format!("X{AKIA}").as_bytes()).is_empty());
        assert!(ids(format!("{AKIA}B").as_bytes()).is_empty());
        assert!(ids(format!("_{AKIA}").as_bytes()).is_empty());
        assert!(ids(format!("{AKIA}_").as_bytes()).is_empty());
        // Too short, or characters outside base32 (0, 1, 8, 9, lowercase).
        assert!(ids(&AKIA.as_bytes()[..19]).is_empty());
        assert!(ids(b"AKIA2E3RX7TBDLQ6WMP0").is_empty());
        assert!(ids(b"AKIA2E3RX7TBDLQ6WMPz").is_empty());
        // Punctuation and quotes are boundaries; start and end of buffer too.
        for wrapped in [
            AKIA.to_string(),
            format!("\"{AKIA}\""),
            format!("'{AKIA}',"),
            format!("export AWS_ACCESS_KEY_ID={AKIA};"),
            format!("key:{AKIA}\r\n"),
            format!("<k>{AKIA}</k>"),
            format!("é{AKIA}é"),
        ] {
            assert_eq!(ids(wrapped.as_bytes()), vec![AKIA.to_string()], "{wrapped}");
        }
    }

    #[test]
    fn ignores_documented_examples_and_placeholders() {
        assert!(ids(b"aws_access_key_id = AKIAIOSFODNN7EXAMPLE").is_empty());
        assert!(ids(b"AKIAI44QH8DHBEXAMPLE").is_empty());
        assert!(ids(b"AKIAAAAAAAAAAAAAAAAA").is_empty());
        assert!(ids(b"AKIAXXXXXXXXXXXXXXXX").is_empty());
    }

    #[test]
    fn lines_and_columns() {
        let text = format!("one\r\ntwo\n\nfour  {AKIA}\nfive\n«é» {ASIA}");
        let hits = scan(text.as_bytes());
        assert_eq!(hits.len(), 2);
        assert_eq!((hits[0].line, hits[0].column), (4, 7));
        assert_eq!((hits[1].line, hits[1].column), (6, 5));
    }

    #[test]
    fn several_keys_on_one_line_and_adjacent_candidates() {
        let text = format!("{AKIA},{ASIA} AKIA-{AKIA}");
        assert_eq!(ids(text.as_bytes()), vec![AKIA, ASIA, AKIA]);
        // A failed candidate right before a real one.
        let text = format!("AKIA {AKIA}");
        assert_eq!(ids(text.as_bytes()), vec![AKIA]);
    }

    #[test]
    fn secret_nearby_raises_confidence() {
        let text = format!("aws_access_key_id={AKIA}\naws_secret_access_key={SECRET}\n");
        assert!(scan(text.as_bytes())[0].secret_nearby);
        let text = format!("{AKIA}\n{}\n{SECRET}\n", "x\n".repeat(3));
        assert!(scan(text.as_bytes())[0].secret_nearby);
        // Far away: more than five lines.
        let text = format!("{AKIA}\n{}{SECRET}\n", "x\n".repeat(8));
        assert!(!scan(text.as_bytes())[0].secret_nearby);
        // Before the key, within the window.
        let text = format!("{SECRET}\n\n{AKIA}\n");
        assert!(scan(text.as_bytes())[0].secret_nearby);
        // On a 1 MB line, far away in bytes: not near.
        let text = format!("{AKIA} {} {SECRET}", "y".repeat(1 << 20));
        assert!(!scan(text.as_bytes())[0].secret_nearby);
    }

    #[test]
    fn things_that_are_not_secrets() {
        // A git commit ID: 40 lowercase hex characters.
        let text = format!("{AKIA} 3f786850e387550fdab836ed7e6dc881de23001b");
        assert!(!scan(text.as_bytes())[0].secret_nearby);
        // 41 characters: not a secret key's length.
        let text = format!("{AKIA} {SECRET}Q");
        assert!(!scan(text.as_bytes())[0].secret_nearby);
        // Low entropy.
        let text = format!("{AKIA} {}", "ab".repeat(20));
        assert!(!scan(text.as_bytes())[0].secret_nearby);
    }

    #[test]
    fn session_token_nearby() {
        let token = "IQoJb3JpZ2luX2VjE".repeat(10);
        let text = format!("AWS_ACCESS_KEY_ID={ASIA}\nAWS_SESSION_TOKEN={token}\n");
        assert!(scan(text.as_bytes())[0].session_token_nearby);
        let text = format!("{ASIA}\naws_session_token = x\n");
        assert!(scan(text.as_bytes())[0].session_token_nearby);
        let text = format!("{ASIA}\nsecret={SECRET}\n");
        assert!(!scan(text.as_bytes())[0].session_token_nearby);
    }

    #[test]
    fn empty_and_binary_inputs() {
        assert!(scan(b"").is_empty());
        assert!(scan(b"\0\0\xff\xfe").is_empty());
        assert!(scan(b"AKIA").is_empty());
        assert!(scan(b"A3T").is_empty());
        let mut bytes = vec![0xffu8; 100];
        bytes.extend_from_slice(AKIA.as_bytes());
        bytes.push(0x80);
        assert_eq!(ids(&bytes), vec![AKIA]);
    }

    proptest::proptest! {
        /// The scanner never panics and everything it reports is a
        /// well-formed key ID at the reported place.
        #[test]
        fn any_bytes(buf in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..4096)) {
            for hit in scan(&buf) {
                proptest::prop_assert_eq!(hit.key_id.len(), KEY_ID_LEN);
                proptest::prop_assert!(KeyPrefix::of(&hit.key_id).is_some());
            }
        }

        /// Key IDs planted anywhere in random text are found, with the
        /// right line.
        #[test]
        fn planted_keys_are_found(
            before in "[a-z =\n]{0,200}",
            after in "[a-z =\n]{0,200}",
        ) {
            let text = format!("{before} {AKIA}\n{after}");
            let hits = scan(text.as_bytes());
            proptest::prop_assert_eq!(hits.len(), 1);
            proptest::prop_assert_eq!(hits[0].line, 1 + before.matches('\n').count());
        }

        /// Text assembled from fragments that look like keys never panics
        /// (boundaries at every offset, truncated candidates).
        #[test]
        fn fragments(parts in proptest::collection::vec(
            proptest::sample::select(vec!["AKIA", "A3T", "ASIA", "2E3RX7TB", "DLQ6WMPZ", "\n", " ", "_", "é", "\r\n"]),
            0..40,
        )) {
            let text: String = parts.concat();
            let _ = scan(text.as_bytes());
        }
    }
}
