//! What the emulator hands out, shaped like the real thing: `aoa…` access
//! tokens, `aor…` refresh tokens, JWS-looking client secrets, `ASIA…` key
//! IDs that decode offline to their account (IDENTITY-CENTER.md §5.3),
//! 40-character secret keys and long session tokens. Every secret carries
//! the configured marker.

use std::hash::{Hash, Hasher};

use data_encoding::BASE32;
use rand::Rng;

use crate::secret::Secret;

const BASE64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const BASE64URL: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
/// Letters a person reads back without confusion.
const USER_CODE_LETTERS: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";
/// A fixed JWS header, as on real client secrets (`eyJraWQiOi…`).
const CLIENT_SECRET_HEADER: &str = "eyJraWQiOiJrZXktMTU2NDAyODA5OSIsImFsZyI6IkhTMzg0In0";
/// Real session tokens start with this (it is `\x21\x0a\x09origin_ec` in base64).
const SESSION_TOKEN_HEAD: &str = "IQoJb3JpZ2luX2VjE";
const SECRET_KEY_LEN: usize = 40;

/// An issued secret used as a map key: hashed and compared by value, never
/// shown.
#[derive(Clone, PartialEq, Eq)]
pub struct IssuedSecret(Secret<String>);

impl IssuedSecret {
    pub fn new(value: Secret<String>) -> Self {
        IssuedSecret(value)
    }

    pub fn secret(&self) -> &Secret<String> {
        &self.0
    }
}

impl Hash for IssuedSecret {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.expose().hash(state);
    }
}

impl std::fmt::Debug for IssuedSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("REDACTED")
    }
}

fn random_chars(alphabet: &[u8], len: usize) -> String {
    let mut rng = rand::rng();
    (0..len)
        .map(|_| char::from(alphabet[rng.random_range(0..alphabet.len())]))
        .collect()
}

pub fn client_id() -> String {
    // Real ones end in the base64 of the region ("us-east-1").
    format!("{}dXMtZWFzdC0x", random_chars(BASE64URL, 22))
}

pub fn client_secret(marker: &str) -> Secret<String> {
    Secret::new(format!(
        "{CLIENT_SECRET_HEADER}.eyJ{marker}{}.{}",
        random_chars(BASE64URL, 320),
        random_chars(BASE64URL, 86)
    ))
}

/// A device code or an authorization code: secrets too, so they carry
/// the marker like every other secret issued.
pub fn device_code(marker: &str) -> String {
    format!("dc{marker}{}", random_chars(BASE64URL, 86))
}

pub fn user_code() -> String {
    format!(
        "{}-{}",
        random_chars(USER_CODE_LETTERS, 4),
        random_chars(USER_CODE_LETTERS, 4)
    )
}

pub fn access_token(marker: &str) -> Secret<String> {
    Secret::new(format!(
        "aoa{marker}{}:{}",
        random_chars(BASE64, 240),
        random_chars(BASE64, 96)
    ))
}

pub fn refresh_token(marker: &str) -> Secret<String> {
    Secret::new(format!(
        "aor{marker}{}:{}",
        random_chars(BASE64, 320),
        random_chars(BASE64, 96)
    ))
}

pub fn request_id() -> String {
    let hex = random_chars(b"0123456789abcdef", 32);
    format!(
        "{}-{}-4{}-a{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[13..16],
        &hex[17..20],
        &hex[20..32]
    )
}

/// `prefix` followed by 16 base32 characters whose bits carry `account_id`
/// the way AWS key IDs do: bit 47 set, the account in bits 7–46 of the
/// first six bytes. An account ID that is not 12 digits gets random bits.
pub fn access_key_id(prefix: &str, account_id: &str) -> String {
    let mut rng = rand::rng();
    let mut bytes = [0u8; 10];
    rng.fill(&mut bytes);
    match parse_account(account_id) {
        Some(account) => {
            let z = (1u64 << 47) | (account << 7) | u64::from(bytes[5] & 0x7f);
            bytes[..6].copy_from_slice(&z.to_be_bytes()[2..]);
        }
        None => bytes[0] |= 0x80,
    }
    format!("{prefix}{}", BASE32.encode(&bytes))
}

fn parse_account(account_id: &str) -> Option<u64> {
    if account_id.len() == 12 && account_id.bytes().all(|b| b.is_ascii_digit()) {
        account_id.parse().ok()
    } else {
        None
    }
}

/// Forty base64 characters with the marker inside (longer if the marker
/// leaves fewer than eight random characters).
pub fn secret_access_key(marker: &str) -> Secret<String> {
    let fill = SECRET_KEY_LEN.saturating_sub(marker.len()).max(8);
    let head = fill / 2;
    Secret::new(format!(
        "{}{marker}{}",
        random_chars(BASE64, head),
        random_chars(BASE64, fill - head)
    ))
}

pub fn session_token(marker: &str) -> Secret<String> {
    Secret::new(format!(
        "{SESSION_TOKEN_HEAD}{marker}{}",
        random_chars(BASE64, 720)
    ))
}

#[cfg(test)]
pub(crate) fn account_of_key_id(key_id: &str) -> Option<String> {
    let body = key_id.get(4..)?;
    let bytes = BASE32.decode(body.as_bytes()).ok()?;
    if bytes.len() != 10 || bytes[0] & 0x80 == 0 {
        return None;
    }
    let mut z = [0u8; 8];
    z[2..].copy_from_slice(&bytes[..6]);
    let account = (u64::from_be_bytes(z) & 0x7FFF_FFFF_FF80) >> 7;
    (account < 1_000_000_000_000).then(|| format!("{account:012}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoder_matches_the_published_vectors() {
        for (key, account) in [
            ("ASIAY34FZKBOKMUTVV7A", "609629065308"),
            ("ASIAQNZGKIQY56JQ7WML", "029608264753"),
            ("AKIARZPUZDIKGB2VALC4", "123456789012"),
            ("ASIAQAAAAAAAGMKEM7X5", "000000000000"),
        ] {
            assert_eq!(account_of_key_id(key).as_deref(), Some(account), "{key}");
        }
        assert_eq!(account_of_key_id("AKIAIOSFODNN7EXAMPLE"), None);
    }

    #[test]
    fn key_ids_encode_their_account() {
        for account in [
            "000000000000",
            "123456789012",
            "999999999999",
            "029608264753",
        ] {
            for _ in 0..50 {
                let key = access_key_id("ASIA", account);
                assert_eq!(key.len(), 20);
                assert!(key.starts_with("ASIA"));
                assert!(
                    key[4..]
                        .bytes()
                        .all(|b| b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".contains(&b))
                );
                assert!(b"QRSTUVWXYZ234567".contains(&key.as_bytes()[4]), "{key}");
                assert_eq!(account_of_key_id(&key).as_deref(), Some(account));
            }
        }
        let odd = access_key_id("AKIA", "not-an-account");
        assert_eq!(odd.len(), 20);
        assert!(odd.starts_with("AKIA"));
    }

    #[test]
    fn secrets_carry_the_marker_and_look_real() {
        let marker = "MARKER42";
        let key = secret_access_key(marker);
        assert_eq!(key.expose().len(), 40);
        assert!(key.expose().contains(marker));
        assert!(key.expose().bytes().all(|b| BASE64.contains(&b)));
        let long = secret_access_key(&"M".repeat(50));
        assert_eq!(long.expose().len(), 58);
        assert_eq!(secret_access_key("").expose().len(), 40);

        assert!(access_token(marker).expose().starts_with("aoaMARKER42"));
        assert!(refresh_token(marker).expose().starts_with("aorMARKER42"));
        assert!(client_secret(marker).expose().starts_with("eyJraWQiOi"));
        assert!(client_secret(marker).expose().contains(marker));
        let token = session_token(marker);
        assert!(token.expose().contains(marker));
        assert!(token.expose().len() > 700);
    }

    #[test]
    fn user_codes_and_request_ids_have_their_shapes() {
        let code = user_code();
        assert_eq!(code.len(), 9);
        assert_eq!(code.as_bytes()[4], b'-');
        let id = request_id();
        assert_eq!(id.len(), 36);
        assert_eq!(id.matches('-').count(), 4);
    }

    #[test]
    fn issued_secret_debug_is_redacted() {
        let s = IssuedSecret::new(access_token("SENTINELxyz"));
        assert!(!format!("{s:?}").contains("SENTINELxyz"));
    }
}
