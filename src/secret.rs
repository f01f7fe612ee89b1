//! `Secret<T>`: a value that must never be printed.
//!
//! It has no `Display`, its `Debug` prints `REDACTED`, it is zeroized on
//! drop, and the value is reachable only through [`Secret::expose`], which
//! callers use at the single place the value is needed (keyring write,
//! protocol write, HTTP body).

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use zeroize::Zeroize;

#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret<T: Zeroize>(T);

impl<T: Zeroize> Secret<T> {
    pub fn new(value: T) -> Self {
        Secret(value)
    }

    /// The secret value. Use it only where it is sent or stored.
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T: Zeroize> From<T> for Secret<T> {
    fn from(value: T) -> Self {
        Secret(value)
    }
}

impl<T: Zeroize> Drop for Secret<T> {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl<T: Zeroize> std::fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("REDACTED")
    }
}

/// Serialises the secret value itself. `Secret` has no `Serialize` of its
/// own, so that no derive can write a secret by accident: every field
/// that is stored names this function (`#[serde(serialize_with = ...)]`).
pub fn serialize_exposed<T, S>(secret: &Secret<T>, serializer: S) -> Result<S::Ok, S::Error>
where
    T: Zeroize + Serialize,
    S: Serializer,
{
    secret.0.serialize(serializer)
}

/// [`serialize_exposed`] for an optional secret.
pub fn serialize_exposed_option<T, S>(
    secret: &Option<Secret<T>>,
    serializer: S,
) -> Result<S::Ok, S::Error>
where
    T: Zeroize + Serialize,
    S: Serializer,
{
    secret.as_ref().map(|s| &s.0).serialize(serializer)
}

impl<'de, T: Zeroize + Deserialize<'de>> Deserialize<'de> for Secret<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::deserialize(deserializer).map(Secret)
    }
}

/// Shows enough of an identifier to recognise it, never the whole value.
/// Total: any input, including an empty or very short string, is fine.
pub fn mask(identifier: &str) -> String {
    let chars: Vec<char> = identifier.chars().collect();
    if chars.len() <= 8 {
        return "*".repeat(chars.len().max(4));
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}…{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const SENTINEL: &str = "SENTINEL-secret-value-0123456789";

    #[test]
    fn debug_is_redacted() {
        let s = Secret::new(SENTINEL.to_string());
        let shown = format!("{s:?} {s:#?}");
        assert!(!shown.contains(SENTINEL), "{shown}");
        assert!(shown.contains("REDACTED"));
        assert_eq!(s.expose(), SENTINEL);
    }

    #[test]
    fn debug_of_containing_struct_is_redacted() {
        #[derive(Debug)]
        #[allow(dead_code)]
        struct Holder {
            id: &'static str,
            token: Secret<String>,
        }
        let h = Holder {
            id: "visible",
            token: Secret::new(SENTINEL.into()),
        };
        let shown = format!("{h:?}");
        assert!(shown.contains("visible"));
        assert!(!shown.contains(SENTINEL));
    }

    #[test]
    fn serde_round_trip_keeps_the_value() {
        #[derive(Serialize)]
        struct Stored {
            #[serde(serialize_with = "serialize_exposed")]
            value: Secret<String>,
        }
        let stored = Stored {
            value: Secret::new(SENTINEL.to_string()),
        };
        let json = serde_json::to_value(&stored).unwrap()["value"].to_string();
        let back: Secret<String> = serde_json::from_str(&json).unwrap();
        assert_eq!(back.expose(), SENTINEL);
    }

    #[test]
    fn mask_is_total() {
        for input in [
            "",
            "a",
            "abcd",
            "abcdefgh",
            "é",
            "ASIAY34FZKBOKMUTVV7A",
            "🙂🙂🙂🙂🙂🙂🙂🙂🙂",
        ] {
            let m = mask(input);
            if input.chars().count() > 8 {
                assert_ne!(m, input);
            }
        }
        assert_eq!(mask("ASIAY34FZKBOKMUTVV7A"), "ASIA…VV7A");
        assert_eq!(mask(""), "****");
    }
}
