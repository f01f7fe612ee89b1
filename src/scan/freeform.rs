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
//! A secret access key set by name (`aws_secret_access_key = …`,
//! `AWS_SECRET_ACCESS_KEY=…`, `"SecretAccessKey": "…"`) with no key ID within
//! the same few lines is reported on its own ([`SecretHit`]): it is still a
//! leaked credential. The same search finds both, in the same pass.
//!
//! A `keyless:allow` or `gitleaks:allow` marker on a hit's line or the line
//! before marks the hit as allowed ([`super::allow`]).
//!
//! Nothing this module returns contains text from the file other than the
//! key ID itself: "a secret is near" is a boolean, and a secret found by
//! name is kept only as a SHA-256 digest.

use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use sha2::{Digest, Sha256};

use super::allow;
use super::keyid::{self, KeyPrefix};

/// Characters after the prefix.
const KEY_BODY_LEN: usize = 16;
/// Every matched key ID is this long (`A3T` + one character + 16 is 20 too).
pub const KEY_ID_LEN: usize = 20;
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

/// The core of the names a secret access key is set under, in the
/// spellings that occur (snake case, upper case, camel case, kebab case).
/// An `aws`, `aws_` or `aws-` before it (any case) is part of the name.
const SECRET_NAMES: [&str; 8] = [
    "secret_access_key",
    "SECRET_ACCESS_KEY",
    "Secret_Access_Key",
    "secretaccesskey",
    "SECRETACCESSKEY",
    "SecretAccessKey",
    "secretAccessKey",
    "secret-access-key",
];

/// One automaton for both: pattern indexes below `PREFIXES.len()` are key
/// prefixes, the rest secret names.
static SEARCH: LazyLock<AhoCorasick> = LazyLock::new(|| {
    AhoCorasick::builder()
        .match_kind(MatchKind::LeftmostFirst)
        .kind(Some(AhoCorasickKind::DFA))
        .build(PREFIXES.iter().chain(SECRET_NAMES.iter()))
        .expect("fourteen fixed short literals always build an automaton")
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
    /// A `keyless:allow` or `gitleaks:allow` marker on the line or the line
    /// before.
    pub allowed: bool,
}

/// A secret access key set by name. The value itself is not kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretHit {
    /// 1-based line number of the value.
    pub line: usize,
    /// 1-based column of the value, in Unicode code points.
    pub column: usize,
    /// SHA-256 of the value (lowercase hex): tells the same secret apart
    /// across runs without holding it.
    pub digest: String,
    /// A key ID that is reported (not an example or placeholder) within a
    /// few lines: the secret is part of that key's finding.
    pub key_id_nearby: bool,
    /// As for [`KeyHit::session_token_nearby`]: with a token, the secret
    /// belongs to temporary credentials.
    pub session_token_nearby: bool,
    /// As for [`KeyHit::allowed`].
    pub allowed: bool,
}

/// Everything found in one buffer, in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hits {
    pub keys: Vec<KeyHit>,
    pub secrets: Vec<SecretHit>,
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
    scan_all(buf).keys
}

/// Where a secret set by name was found, before the key IDs around it are
/// known.
struct SecretCandidate {
    /// Start of the setting's name (for the context window).
    name_start: usize,
    value_start: usize,
    line: usize,
    column: usize,
    digest: String,
    session_token_nearby: bool,
    allowed: bool,
}

/// Finds every credential key ID and every secret access key set by name
/// in `buf`, in one pass.
///
/// Never panics, whatever the bytes; does not need UTF-8.
pub fn scan_all(buf: &[u8]) -> Hits {
    let mut keys = Vec::new();
    // Byte offsets of the reported key IDs, ascending.
    let mut key_starts = Vec::new();
    let mut candidates = Vec::new();
    // Line counting is incremental: from the previous hit to this one.
    let mut counted_to = 0usize;
    let mut line = 1usize;
    let mut line_at = |pos: usize| {
        line += memchr::memchr_iter(b'\n', &buf[counted_to..pos]).count();
        counted_to = pos;
        let line_start = memchr::memrchr(b'\n', &buf[..pos]).map_or(0, |i| i + 1);
        let column = 1 + buf[line_start..pos]
            .iter()
            .filter(|&&b| b & 0xC0 != 0x80)
            .count();
        (line, column)
    };
    for m in SEARCH.find_iter(buf) {
        let start = m.start();
        if m.pattern().as_usize() >= PREFIXES.len() {
            let Some((name_start, value_start)) = verify_secret(buf, start, m.end()) else {
                continue;
            };
            let value = &buf[value_start..value_start + SECRET_LEN];
            if !is_secret_value(value) {
                continue;
            }
            let (line, column) = line_at(value_start);
            let (lo, hi) = context(buf, name_start, value_start + SECRET_LEN);
            candidates.push(SecretCandidate {
                name_start,
                value_start,
                line,
                column,
                digest: data_encoding::HEXLOWER.encode(&Sha256::digest(value)),
                session_token_nearby: has_session_token(&buf[lo..hi]),
                allowed: allow::marked(buf, value_start),
            });
            continue;
        }
        let Some(end) = verify(buf, start, m.len()) else {
            continue;
        };
        let id = &buf[start..end];
        // The ID is ASCII by construction.
        let key_id = String::from_utf8_lossy(id).into_owned();
        if keyid::is_placeholder(&key_id) {
            continue;
        }
        let Some(prefix) = KeyPrefix::of(&key_id) else {
            continue;
        };
        let (line, column) = line_at(start);
        let (lo, hi) = context(buf, start, end);
        let around = &buf[lo..hi];
        key_starts.push(start);
        keys.push(KeyHit {
            key_id,
            prefix,
            line,
            column,
            secret_nearby: has_secret(around),
            session_token_nearby: has_session_token(around),
            allowed: allow::marked(buf, start),
        });
    }
    let secrets = candidates
        .into_iter()
        .map(|c| {
            let (lo, hi) = context(buf, c.name_start, c.value_start + SECRET_LEN);
            let first = key_starts.partition_point(|&k| k < lo);
            SecretHit {
                line: c.line,
                column: c.column,
                digest: c.digest,
                key_id_nearby: key_starts.get(first).is_some_and(|&k| k < hi),
                session_token_nearby: c.session_token_nearby,
                allowed: c.allowed,
            }
        })
        .collect();
    Hits { keys, secrets }
}

/// Checks a secret name match at `start..end`: a whole name (an `aws`
/// before it belongs to it), a separator (`=`, `:`, `:=`, `=>`, `,`, `>`
/// or just blanks), optional quotes, then exactly 40 base64 characters.
/// Returns the start of the name and the start of the value.
fn verify_secret(buf: &[u8], start: usize, end: usize) -> Option<(usize, usize)> {
    let mut name_start = start;
    let aws_before = |at: usize| at >= 3 && buf[at - 3..at].eq_ignore_ascii_case(b"aws");
    if name_start >= 1 && matches!(buf[name_start - 1], b'_' | b'-') && aws_before(name_start - 1) {
        name_start -= 4;
    } else if aws_before(name_start) {
        name_start -= 3;
    }
    if name_start > 0 && buf[name_start - 1].is_ascii_alphanumeric() {
        return None;
    }
    let mut i = end;
    let at = |i: usize| buf.get(i).copied();
    if at(i).is_some_and(is_word) {
        return None;
    }
    let skip_quote = |i: &mut usize| {
        if buf[*i..].starts_with(b"\\\"") {
            *i += 2;
        } else if matches!(at(*i), Some(b'"' | b'\'' | b'`')) {
            *i += 1;
        }
    };
    let skip_blanks = |i: &mut usize| {
        let from = *i;
        while matches!(at(*i), Some(b' ' | b'\t')) {
            *i += 1;
        }
        *i > from
    };
    skip_quote(&mut i);
    let mut blank = skip_blanks(&mut i);
    if buf[i..].starts_with(b"=>") || buf[i..].starts_with(b":=") {
        i += 2;
        blank = true;
    } else if matches!(at(i), Some(b'=' | b':' | b',' | b'>')) {
        i += 1;
        blank = true;
    }
    if !blank {
        return None;
    }
    skip_blanks(&mut i);
    skip_quote(&mut i);
    let value_end = i.checked_add(SECRET_LEN)?;
    if value_end > buf.len() || !buf[i..value_end].iter().all(|&b| is_base64(b)) {
        return None;
    }
    if at(value_end).is_some_and(|b| is_base64(b) || b == b'=') {
        return None;
    }
    Some((name_start, i))
}

/// A value with a secret key's randomness: not AWS's documented example
/// (`…EXAMPLEKEY`), not a placeholder, not hex.
fn is_secret_value(value: &[u8]) -> bool {
    !contains_ci(value, b"example") && keyid::shannon_entropy(value) >= MIN_SECRET_ENTROPY
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

    fn secrets(buf: &[u8]) -> Vec<SecretHit> {
        scan_all(buf).secrets
    }

    #[test]
    fn a_genuine_key_of_a_small_account_is_found() {
        // Account 000000000001: the body starts with the account bits,
        // `QAAAAAAA`, then random characters.
        let key = "AKIAQAAAAAAASLNVZ4VM";
        assert_eq!(
            keyid::decode_account(key),
            keyid::Account::Decoded("000000000001".to_string())
        );
        let text = format!("aws_access_key_id = {key}\n");
        assert_eq!(ids(text.as_bytes()), vec![key.to_string()]);
        // Placeholders whose account bits look the same are still ignored.
        assert!(ids(b"AKIAQAAAAAAAAAAAAAAA AKIAQAAAAAAAABABABAB").is_empty());
    }

    #[test]
    fn secrets_set_by_name_in_every_form() {
        for text in [
            format!("aws_secret_access_key = {SECRET}"),
            format!("aws_secret_access_key={SECRET}\n"),
            format!("export AWS_SECRET_ACCESS_KEY={SECRET}"),
            format!("AWS_SECRET_ACCESS_KEY=\"{SECRET}\""),
            format!("{{\"aws_secret_access_key\": \"{SECRET}\"}}"),
            format!("{{\"SecretAccessKey\":\"{SECRET}\"}}"),
            format!("{{\\\"SecretAccessKey\\\":\\\"{SECRET}\\\"}}"),
            format!("  aws_secret_access_key: {SECRET}\n"),
            format!("  awsSecretAccessKey: '{SECRET}'\n"),
            format!("aws configure set aws_secret_access_key {SECRET}"),
            format!("$env:AWS_SECRET_ACCESS_KEY = \"{SECRET}\""),
            format!("-e MY_AWS_SECRET_ACCESS_KEY={SECRET} "),
            format!("<SecretAccessKey>{SECRET}</SecretAccessKey>"),
            format!("secret_access_key => '{SECRET}',"),
            format!("aws-secret-access-key: `{SECRET}`"),
        ] {
            let found = secrets(text.as_bytes());
            assert_eq!(found.len(), 1, "{text}");
            assert!(!found[0].key_id_nearby, "{text}");
            assert!(!format!("{found:?}").contains(SECRET));
        }
    }

    #[test]
    fn what_is_not_a_secret_setting() {
        for text in [
            // A 40-character value alone: no name.
            SECRET.to_string(),
            // Wrong length, padding, hex, example, placeholder, reference.
            format!("aws_secret_access_key = {SECRET}Q"),
            format!("aws_secret_access_key = {}", &SECRET[..39]),
            format!("aws_secret_access_key = {SECRET}="),
            "aws_secret_access_key = 3f786850e387550fdab836ed7e6dc881de23001b".to_string(),
            "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".to_string(),
            format!("aws_secret_access_key = {}", "x".repeat(40)),
            "AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY}".to_string(),
            // Part of another word, or no separator.
            format!("mysecret_access_key = {SECRET}"),
            format!("aws_secret_access_key_id = {SECRET}"),
            format!("aws_secret_access_key{SECRET}"),
            // The name and the value on different lines.
            format!("aws_secret_access_key =\n{SECRET}"),
        ] {
            assert!(secrets(text.as_bytes()).is_empty(), "{text}");
        }
    }

    #[test]
    fn a_secret_near_its_key_id_is_not_alone() {
        let text = format!("aws_access_key_id={AKIA}\naws_secret_access_key={SECRET}\n");
        let hits = scan_all(text.as_bytes());
        assert!(hits.keys[0].secret_nearby);
        assert!(hits.secrets[0].key_id_nearby);
        // The key ID after the secret, within five lines.
        let text = format!("aws_secret_access_key={SECRET}\n\n\naws_access_key_id={AKIA}\n");
        assert!(scan_all(text.as_bytes()).secrets[0].key_id_nearby);
        // Too far.
        let text = format!(
            "aws_secret_access_key={SECRET}\n{}{AKIA}\n",
            "x\n".repeat(8)
        );
        assert!(!scan_all(text.as_bytes()).secrets[0].key_id_nearby);
        // A placeholder key ID does not count.
        let text =
            format!("AWS_ACCESS_KEY_ID=AKIAXXXXXXXXXXXXXXXX\nAWS_SECRET_ACCESS_KEY={SECRET}\n");
        let hits = scan_all(text.as_bytes());
        assert!(hits.keys.is_empty());
        assert!(!hits.secrets[0].key_id_nearby);
    }

    #[test]
    fn secret_hits_have_a_place_a_digest_and_a_token_flag() {
        let text = format!("one\ntwo\n  AWS_SECRET_ACCESS_KEY={SECRET}\nAWS_SESSION_TOKEN=x\n");
        let hit = &secrets(text.as_bytes())[0];
        assert_eq!((hit.line, hit.column), (3, 25));
        assert!(hit.session_token_nearby);
        assert_eq!(hit.digest.len(), 64);
        let other = format!("AWS_SECRET_ACCESS_KEY={}", SECRET.replace('p', "q"));
        assert_ne!(secrets(other.as_bytes())[0].digest, hit.digest);
        let again = format!("aws_secret_access_key: {SECRET}");
        assert_eq!(secrets(again.as_bytes())[0].digest, hit.digest);
    }

    #[test]
    fn allow_markers_mark_hits() {
        let text = format!(
            "# keyless:allow\n{AKIA}\n\n{ASIA} # gitleaks:allow\n\nAWS_SECRET_ACCESS_KEY={SECRET} # keyless:allow\n\n{AKIA}\n"
        );
        let hits = scan_all(text.as_bytes());
        let allowed: Vec<bool> = hits.keys.iter().map(|h| h.allowed).collect();
        assert_eq!(allowed, vec![true, true, false]);
        assert!(hits.secrets[0].allowed);
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
            let hits = scan_all(&buf);
            for hit in hits.keys {
                proptest::prop_assert_eq!(hit.key_id.len(), KEY_ID_LEN);
                proptest::prop_assert!(KeyPrefix::of(&hit.key_id).is_some());
            }
            for hit in hits.secrets {
                proptest::prop_assert!(hit.line >= 1 && hit.column >= 1);
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
            proptest::sample::select(vec!["AKIA", "A3T", "ASIA", "2E3RX7TB", "DLQ6WMPZ", "\n", " ", "_", "é", "\r\n",
                                          "aws_secret_access_key", "SecretAccessKey", "=", ":", "\"", "\\\"",
                                          "p7Rz+Kq2Wm9Xv4Lb/Tn8Yc3Hs6Jd1Fg5Ae0Ui7Ok", "keyless:allow"]),
            0..40,
        )) {
            let text: String = parts.concat();
            let _ = scan_all(text.as_bytes());
        }
    }
}
