//! AWS key IDs: what a prefix means, and the account encoded in a key ID.
//!
//! A key ID is an identifier, not a secret: printing it is how a finding is
//! tied to a key in the IAM console. The secret access key that goes with it
//! is never held or printed by the scanner.

use std::fmt;

/// The prefixes of AWS unique IDs that name a credential.
///
/// Identifiers that do not authenticate anything (`AIDA` users, `AROA`
/// roles, `ANPA` policies…) are deliberately not reported: they are not
/// credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyPrefix {
    /// `AKIA`: a long-term access key of an IAM user or of the root user.
    LongTerm,
    /// `ASIA`: a temporary STS access key; useless without its session token.
    Temporary,
    /// `ABIA`: an AWS STS service bearer token.
    BearerToken,
    /// `ACCA`: a context-specific (service-specific) credential.
    ServiceCredential,
    /// `APKA`: a CloudFront key pair of the root user (the private key lives
    /// elsewhere).
    KeyPair,
    /// `A3T?`: an older format that secret scanners still match; it may not be
    /// a valid key.
    Legacy,
}

impl KeyPrefix {
    /// The prefix of a key ID, if it is one of the credential prefixes.
    pub fn of(key_id: &str) -> Option<KeyPrefix> {
        let b = key_id.as_bytes();
        if b.len() < 4 {
            return None;
        }
        match &b[..4] {
            b"AKIA" => Some(KeyPrefix::LongTerm),
            b"ASIA" => Some(KeyPrefix::Temporary),
            b"ABIA" => Some(KeyPrefix::BearerToken),
            b"ACCA" => Some(KeyPrefix::ServiceCredential),
            b"APKA" => Some(KeyPrefix::KeyPair),
            [b'A', b'3', b'T', c] if c.is_ascii_uppercase() || c.is_ascii_digit() => {
                Some(KeyPrefix::Legacy)
            }
            _ => None,
        }
    }

    /// Whether a key with this prefix lives until someone deletes it.
    pub fn is_long_lived(self) -> bool {
        match self {
            KeyPrefix::LongTerm | KeyPrefix::ServiceCredential | KeyPrefix::Legacy => true,
            KeyPrefix::Temporary | KeyPrefix::BearerToken | KeyPrefix::KeyPair => false,
        }
    }
}

/// The alphabet of the characters after the prefix (RFC 4648 base32).
pub(crate) fn is_base32(b: u8) -> bool {
    b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b)
}

fn base32_index(b: u8) -> Option<u8> {
    match b {
        b'A'..=b'Z' => Some(b - b'A'),
        b'2'..=b'7' => Some(b - b'2' + 26),
        _ => None,
    }
}

/// Whether a string has the shape of an AWS access key ID: 16 to 128
/// uppercase letters and digits (the IAM `AccessKeyId` constraint, upper-case
/// as every issued ID is).
///
/// Used before printing a value read from an `aws_access_key_id` setting:
/// a secret pasted into the wrong field must not be printed, and a 40-character
/// mixed-case base64 secret never has this shape.
pub fn looks_like_key_id(value: &str) -> bool {
    (16..=128).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// The key IDs AWS uses in its documentation (`AKIAIOSFODNN7EXAMPLE` and the
/// like): never a real key.
pub fn is_documented_example(key_id: &str) -> bool {
    key_id.ends_with("EXAMPLE")
}

/// Where the account bits of a new-format key ID end: the account is the
/// 40 bits after the format bit, which end in the top bit of the 13th
/// character (IDENTITY-CENTER.md §5.3). The characters from here on are
/// random.
const ACCOUNT_BITS_END: usize = 12;

/// The part of a key ID that carries randomness.
///
/// In a new-format ID (5th character `Q`–`Z` or `2`–`7`) the characters
/// after the prefix encode the account first, so a genuine key of a small
/// account number has a long run of `A`s there (`AKIAQAAAAAAA…` is account
/// 000000000001). Only the last 8 characters are random. In a legacy ID
/// (`AKIAI…`, `AKIAJ…`) and anything else, the whole body after the
/// 4-character prefix is.
pub(crate) fn random_part(key_id: &str) -> &[u8] {
    let b = key_id.as_bytes();
    if b.len() < 4 {
        return b;
    }
    let new_format = b.len() == 20 && base32_index(b[4]).is_some_and(|i| i >= 16);
    if new_format {
        &b[ACCOUNT_BITS_END..]
    } else {
        &b[4..]
    }
}

/// Whether `part` is not random at all: too few different characters for
/// its length (1 or 2 of 8, up to 4 of 16), or a run of consecutive
/// characters (`ABCDEFGH`, `234567…`).
///
/// A random base32 string of 8 characters has 2 or fewer distinct
/// characters about once in 10 million; 16 characters have 4 or fewer
/// even less often. Placeholders such as `XXXXXXXX` or `00000000` always do.
fn looks_made_up(part: &[u8]) -> bool {
    if part.is_empty() {
        return true;
    }
    let mut seen = [false; 256];
    let mut distinct = 0usize;
    for &c in part {
        if !seen[usize::from(c)] {
            seen[usize::from(c)] = true;
            distinct += 1;
        }
    }
    if distinct < part.len() / 4 + 1 {
        return true;
    }
    part.len() >= 4 && part.windows(2).all(|w| w[1] == w[0].wrapping_add(1))
}

/// Whether a key ID is a documented example or an obvious placeholder
/// (`AKIAXXXXXXXXXXXXXXXX`, `AKIA0000000000000000`, `AKIAABCDEFGHIJKLMNOP`…),
/// judged on the [`random_part`] only, so that the account bits of a real
/// key never make it look like one.
pub fn is_placeholder(key_id: &str) -> bool {
    is_documented_example(key_id) || looks_made_up(random_part(key_id))
}

/// Shannon entropy in bits per character.
pub(crate) fn shannon_entropy(bytes: &[u8]) -> f64 {
    if bytes.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in bytes {
        counts[usize::from(b)] += 1;
    }
    let len = bytes.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / len;
            -p * p.log2()
        })
        .sum()
}

/// The AWS account a key ID belongs to, as far as it can be told offline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Account {
    /// The 12-digit account ID encoded in a new-format key ID.
    Decoded(String),
    /// A legacy key ID (5th character below `Q`, e.g. `AKIAI…`/`AKIAJ…`):
    /// random, no account inside.
    NotEncoded,
    /// Not a key ID the decoding applies to (too short, not base32, or a
    /// result out of range).
    Unknown,
}

impl Account {
    /// The account ID, when one was decoded.
    pub fn id(&self) -> Option<&str> {
        match self {
            Account::Decoded(id) => Some(id),
            Account::NotEncoded | Account::Unknown => None,
        }
    }
}

impl fmt::Display for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Account::Decoded(id) => f.write_str(id),
            Account::NotEncoded => f.write_str("not encoded"),
            Account::Unknown => f.write_str("unknown"),
        }
    }
}

/// Decodes the AWS account ID from a key ID, offline.
///
/// The 16 characters after the 4-character prefix are base32; decoded they
/// give 10 bytes. The first 6 bytes, big-endian, masked with
/// `0x7FFF_FFFF_FF80` and shifted right by 7, are the account ID. This holds
/// for key IDs whose 5th character has the top bit of its 5-bit value set
/// (`Q`–`Z`, `2`–`7`): AKIA/ASIA keys issued since about 2019, and unique IDs
/// such as AROA/AIDA. Older IDs (`AKIAI…`, `AKIAJ…`) are random.
pub fn decode_account(key_id: &str) -> Account {
    let b = key_id.as_bytes();
    if b.len() < 20 {
        return Account::Unknown;
    }
    let body = &b[4..20];
    let mut value: u128 = 0;
    for &c in body {
        match base32_index(c) {
            Some(i) => value = (value << 5) | u128::from(i),
            None => return Account::Unknown,
        }
    }
    if base32_index(body[0]).is_none_or(|i| i < 16) {
        return Account::NotEncoded;
    }
    // 16 characters × 5 bits = 80 bits; the first 6 bytes are the top 48.
    let z = (value >> 32) as u64;
    let account = (z & 0x7FFF_FFFF_FF80) >> 7;
    if account >= 1_000_000_000_000 {
        return Account::Unknown;
    }
    Account::Decoded(format!("{account:012}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_the_published_vectors() {
        let vectors = [
            ("ASIAY34FZKBOKMUTVV7A", "609629065308"),
            ("ASIAQNZGKIQY56JQ7WML", "029608264753"),
            ("AKIARZPUZDIKGB2VALC4", "123456789012"),
            ("ASIAQAAAAAAAGMKEM7X5", "000000000000"),
        ];
        for (key, account) in vectors {
            assert_eq!(
                decode_account(key),
                Account::Decoded(account.to_string()),
                "{key}"
            );
        }
    }

    /// The offset form of the same algorithm (IDENTITY-CENTER.md §5.3):
    /// `2*(v − 2^39) + (index(key[12]) ≥ 16)`, with `v` the base32 value of
    /// `key[4..12]`. Both forms must agree on every new-format ID.
    fn offset_form(key: &str) -> u64 {
        let b = key.as_bytes();
        let mut v: u64 = 0;
        for &c in &b[4..12] {
            v = (v << 5) | u64::from(base32_index(c).unwrap());
        }
        let bit = u64::from(base32_index(b[12]).unwrap() >= 16);
        2 * (v - (1u64 << 39)) + bit
    }

    #[test]
    fn worked_example_matches_the_offset_form() {
        assert_eq!(offset_form("ASIAY34FZKBOKMUTVV7A"), 609_629_065_308);
    }

    /// Builds a key ID for an account the way moto and LocalStack do: the
    /// account shifted into bits 7..47 of the first 6 bytes, with the top bit
    /// set, random bits elsewhere.
    fn encode(prefix: &str, account: u64, noise: u64) -> String {
        let z: u64 = (1 << 47) | (account << 7) | (noise & 0x7F);
        let tail = noise >> 7;
        let value: u128 = (u128::from(z) << 32) | u128::from(tail & 0xFFFF_FFFF);
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        let mut out = String::from(prefix);
        for i in (0..16).rev() {
            out.push(char::from(alphabet[((value >> (i * 5)) & 31) as usize]));
        }
        out
    }

    proptest::proptest! {
        #[test]
        fn round_trips_any_account(account in 0u64..1_000_000_000_000, noise: u64,
                                   prefix in proptest::sample::select(vec!["AKIA", "ASIA", "AROA", "AIDA"])) {
            let key = encode(prefix, account, noise);
            proptest::prop_assert_eq!(decode_account(&key), Account::Decoded(format!("{account:012}")));
            proptest::prop_assert_eq!(offset_form(&key), account);
        }

        /// A genuine key is never taken for a placeholder, whatever its
        /// account, small numbers included.
        #[test]
        fn genuine_keys_are_not_placeholders(account in proptest::prop_oneof![0u64..1000, 0u64..1_000_000_000_000],
                                             noise: u64) {
            let key = encode("AKIA", account, noise);
            proptest::prop_assert!(!is_placeholder(&key), "{}", key);
        }

        #[test]
        fn never_panics(s in "\\PC{0,40}") {
            let _ = decode_account(&s);
            let _ = is_placeholder(&s);
            let _ = KeyPrefix::of(&s);
            let _ = looks_like_key_id(&s);
        }
    }

    #[test]
    fn legacy_key_ids_carry_no_account() {
        assert_eq!(decode_account("AKIAIOSFODNN7EXAMPLE"), Account::NotEncoded);
        assert_eq!(decode_account("AKIAJABCDEFGHIJKLMNO"), Account::NotEncoded);
        assert_eq!(Account::NotEncoded.to_string(), "not encoded");
    }

    #[test]
    fn malformed_key_ids_are_unknown() {
        assert_eq!(decode_account("AKIA"), Account::Unknown);
        assert_eq!(decode_account(""), Account::Unknown);
        assert_eq!(decode_account("AKIAQ0000000000000000"), Account::Unknown);
        assert_eq!(decode_account("AKIAé234567890123456"), Account::Unknown);
        // Top bit set but an account of 10^12 or more: out of range.
        assert_eq!(decode_account("AKIA7777777777777777"), Account::Unknown);
    }

    #[test]
    fn prefixes_classify() {
        assert_eq!(KeyPrefix::of("AKIAX"), Some(KeyPrefix::LongTerm));
        assert_eq!(KeyPrefix::of("ASIAX"), Some(KeyPrefix::Temporary));
        assert_eq!(KeyPrefix::of("ABIAX"), Some(KeyPrefix::BearerToken));
        assert_eq!(KeyPrefix::of("ACCAX"), Some(KeyPrefix::ServiceCredential));
        assert_eq!(KeyPrefix::of("APKAX"), Some(KeyPrefix::KeyPair));
        assert_eq!(KeyPrefix::of("A3TX"), Some(KeyPrefix::Legacy));
        assert_eq!(KeyPrefix::of("A3T-"), None);
        assert_eq!(KeyPrefix::of("AROAX"), None);
        assert_eq!(KeyPrefix::of("akia"), None);
        assert!(KeyPrefix::LongTerm.is_long_lived());
        assert!(!KeyPrefix::Temporary.is_long_lived());
    }

    #[test]
    fn key_id_shape() {
        assert!(looks_like_key_id("AKIAIOSFODNN7EXAMPLE"));
        assert!(looks_like_key_id(
            "test1234test1234".to_uppercase().as_str()
        ));
        assert!(!looks_like_key_id(
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
        ));
        assert!(!looks_like_key_id("test"));
        assert!(!looks_like_key_id(""));
    }

    /// Regression: the entropy of the whole ID dropped every genuine key of
    /// an account with a small number, whose body starts with `QAAAAAAA`.
    #[test]
    fn keys_of_small_account_numbers_are_not_placeholders() {
        for (account, noise) in [
            (1, 0x5A5A_1234_9876_ABCD),
            (1, 0x0123_4567_89AB_CDEF),
            (2, 0xDEAD_BEEF_F00D_1234),
            (42, 0x1357_9BDF_2468_ACE0),
            (0, 0xFEDC_BA98_7654_3210),
        ] {
            for prefix in ["AKIA", "ASIA"] {
                let key = encode(prefix, account, noise);
                assert!(key.starts_with(&format!("{prefix}QAAAAAA")), "{key}");
                assert_eq!(
                    decode_account(&key),
                    Account::Decoded(format!("{account:012}"))
                );
                // What the old rule measured (gitleaks' 3 bits per
                // character over the whole ID), and why it failed.
                if account < 16 {
                    assert!(shannon_entropy(key.as_bytes()) < 3.0, "{key}");
                }
                assert!(!is_placeholder(&key), "{key}");
            }
        }
    }

    #[test]
    fn placeholders_and_examples() {
        for key in [
            "AKIAIOSFODNN7EXAMPLE",
            "AKIAI44QH8DHBEXAMPLE",
            "AKIAXXXXXXXXXXXXXXXX",
            "AKIA0000000000000000",
            "AKIAAAAAAAAAAAAAAAAA",
            "ASIAZZZZZZZZZZZZZZZZ",
            "AKIAABCDEFGHIJKLMNOP",
            "AKIAQAAAAAAAAAAAAAAA",
            "AKIAQAAAAAAAABABABAB",
            "AKIAQAAAAAAAABCDEFGH",
            "AKIA",
        ] {
            assert!(is_placeholder(key), "{key}");
        }
        for key in [
            "AKIARZPUZDIKGB2VALC4",
            "ASIAY34FZKBOKMUTVV7A",
            "ASIAQAAAAAAAGMKEM7X5",
            "AKIAJ2E3RX7TBDLQ6WMP",
            "AKIA2E3RX7TBDLQ6WMPZ",
        ] {
            assert!(!is_placeholder(key), "{key}");
        }
        assert_eq!(random_part("AKIAQAAAAAAAGMKEM7X5"), b"GMKEM7X5");
        assert_eq!(random_part("AKIAJ2E3RX7TBDLQ6WMP"), b"J2E3RX7TBDLQ6WMP");
    }

    #[test]
    fn entropy() {
        assert_eq!(shannon_entropy(b""), 0.0);
        assert_eq!(shannon_entropy(b"AAAA"), 0.0);
        assert!((shannon_entropy(b"ABAB") - 1.0).abs() < 1e-9);
        assert!(shannon_entropy(b"AKIAIOSFODNN7EXAMPLE") > 3.0);
    }
}
