//! The authorization-code login with PKCE (IDENTITY-CENTER.md §7): the
//! verifier, challenge and state, the `/authorize` URL, and the loopback
//! listener that receives the browser's redirect.
//!
//! Unlike the AWS CLI, the listener binds 127.0.0.1 only, never every
//! interface; the `state` is compared in constant time; the listener is
//! closed when the login ends, by success, failure, timeout or Ctrl-C.

use std::collections::HashMap;
use std::time::Duration;

use data_encoding::BASE64URL_NOPAD;
use rand::Rng;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::secret::Secret;

/// How long the browser has to come back (as the AWS CLI).
pub const LOGIN_TIMEOUT: Duration = Duration::from_secs(10 * 60);
/// How long one browser connection may take to send its request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest request read from the browser.
const MAX_REQUEST: usize = 16 * 1024;
/// The callback path of the redirect URI.
pub const CALLBACK_PATH: &str = "/oauth/callback";

const UNRESERVED: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";

#[derive(Debug, thiserror::Error)]
pub enum PkceError {
    #[error(
        "the sign-in was denied in the browser ({error}{})",
        .description.as_deref().map(|d| format!(": {d}")).unwrap_or_default()
    )]
    Denied {
        error: String,
        description: Option<String>,
    },
    #[error(
        "the browser came back with a state that is not this login's, so the answer was \
         refused (it may come from another page)"
    )]
    StateMismatch,
    #[error("no answer from the browser within {} minutes", LOGIN_TIMEOUT.as_secs() / 60)]
    Timeout,
    #[error("the sign-in was cancelled (Ctrl-C)")]
    Interrupted,
    #[error("the loopback listener on 127.0.0.1 failed: {0}")]
    Listener(String),
}

impl PkceError {
    /// The next step, for the `hint:` line.
    pub fn hint(&self) -> Option<String> {
        Some(
            match self {
                PkceError::Denied { .. } => "run `keyless login` again and allow the request",
                PkceError::StateMismatch => "run `keyless login` again",
                PkceError::Timeout => {
                    "run `keyless login` again (or `keyless login --no-browser` for a device code)"
                }
                PkceError::Interrupted => return None,
                PkceError::Listener(_) => "run `keyless login --no-browser` for a device code",
            }
            .into(),
        )
    }
}

/// A PKCE code verifier: 64 characters of RFC 3986's unreserved set.
pub fn verifier() -> Secret<String> {
    let mut rng = rand::rng();
    Secret::new(
        (0..64)
            .map(|_| char::from(UNRESERVED[rng.random_range(0..UNRESERVED.len())]))
            .collect(),
    )
}

/// The S256 challenge: base64url(SHA-256(verifier)) without padding.
pub fn challenge(verifier: &Secret<String>) -> String {
    BASE64URL_NOPAD.encode(&Sha256::digest(verifier.expose().as_bytes()))
}

/// A random `state`, 128 bits as hex.
pub fn state() -> String {
    let bytes: [u8; 16] = rand::rng().random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The browser URL that starts the sign-in.
pub fn authorize_url(
    base: &str,
    client_id: &str,
    redirect_uri: &str,
    state: &str,
    challenge: &str,
    scopes: &[String],
) -> String {
    let params = [
        ("response_type", "code".to_string()),
        ("client_id", client_id.to_string()),
        ("redirect_uri", redirect_uri.to_string()),
        ("state", state.to_string()),
        ("code_challenge_method", "S256".to_string()),
        ("scopes", scopes.join(" ")),
        ("code_challenge", challenge.to_string()),
    ];
    let query: Vec<String> = params
        .iter()
        .map(|(k, v)| format!("{k}={}", percent_encode(v)))
        .collect();
    format!(
        "{}/authorize?{}",
        base.trim_end_matches('/'),
        query.join("&")
    )
}

/// Equality whose time does not depend on where the inputs differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if UNRESERVED.contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

fn percent_decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = (bytes[i] == b'%')
            .then(|| value.get(i + 1..i + 3))
            .flatten()
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (hex, bytes[i]) {
            (Some(b), _) => {
                out.push(b);
                i += 3;
            }
            (None, b'+') => {
                out.push(b' ');
                i += 1;
            }
            (None, b) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The query parameters of a request target.
fn query_of(target: &str) -> HashMap<String, String> {
    let query = target.split_once('?').map_or("", |(_, q)| q);
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

/// What one callback request means.
#[derive(Debug, PartialEq, Eq)]
enum Callback {
    /// Not the callback (a favicon, a stray request): answer and go on.
    Other,
    Code(String),
    Denied {
        error: String,
        description: Option<String>,
    },
    WrongState,
}

fn classify(target: &str, expected_state: &str) -> Callback {
    let path = target.split_once('?').map_or(target, |(p, _)| p);
    if path != CALLBACK_PATH {
        return Callback::Other;
    }
    let mut query = query_of(target);
    let state_ok = query
        .get("state")
        .is_some_and(|s| constant_time_eq(s.as_bytes(), expected_state.as_bytes()));
    if let Some(error) = query.remove("error") {
        if !state_ok {
            return Callback::WrongState;
        }
        return Callback::Denied {
            error,
            description: query.remove("error_description"),
        };
    }
    match query.remove("code") {
        Some(code) if state_ok => Callback::Code(code),
        Some(_) => Callback::WrongState,
        None => Callback::Other,
    }
}

const PAGE_OK: &str = "<!doctype html><meta charset=utf-8><title>keyless</title>\
    <h1>Signed in</h1><p>keyless has the sign-in. You can close this window.</p>";
const PAGE_FAILED: &str = "<!doctype html><meta charset=utf-8><title>keyless</title>\
    <h1>Sign-in failed</h1><p>keyless did not sign in; the terminal says why. You can close \
    this window.</p>";
const PAGE_OTHER: &str = "<!doctype html><meta charset=utf-8><title>keyless</title>\
    <p>Waiting for the sign-in.</p>";

/// The loopback listener, on 127.0.0.1 and a port of the system's choice.
pub struct Loopback {
    listener: TcpListener,
    port: u16,
}

impl Loopback {
    pub async fn bind() -> Result<Loopback, PkceError> {
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(|e| PkceError::Listener(e.to_string()))?;
        let port = listener
            .local_addr()
            .map_err(|e| PkceError::Listener(e.to_string()))?
            .port();
        Ok(Loopback { listener, port })
    }

    /// The redirect URI with this listener's port.
    pub fn redirect_uri(&self) -> String {
        format!("http://127.0.0.1:{}{CALLBACK_PATH}", self.port)
    }

    /// Waits for the callback with `state`, at most `timeout`, or until
    /// Ctrl-C. Every request gets a page; the listener closes on return.
    pub async fn wait(self, state: &str, timeout: Duration) -> Result<Secret<String>, PkceError> {
        let serve = async {
            loop {
                let (stream, _) = self
                    .listener
                    .accept()
                    .await
                    .map_err(|e| PkceError::Listener(e.to_string()))?;
                match answer(stream, state).await {
                    Some(done) => return done,
                    None => continue,
                }
            }
        };
        tokio::select! {
            done = tokio::time::timeout(timeout, serve) => done.unwrap_or(Err(PkceError::Timeout)),
            _ = tokio::signal::ctrl_c() => Err(PkceError::Interrupted),
        }
    }
}

/// Reads one request and answers it; `Some` when it ends the wait.
async fn answer(mut stream: TcpStream, state: &str) -> Option<Result<Secret<String>, PkceError>> {
    let mut buf = Vec::with_capacity(2048);
    let read = tokio::time::timeout(REQUEST_TIMEOUT, async {
        let mut chunk = [0u8; 2048];
        while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < MAX_REQUEST {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
    })
    .await;
    if read.is_err() {
        return None;
    }
    let text = String::from_utf8_lossy(&buf);
    let mut words = text.lines().next().unwrap_or("").split_whitespace();
    let (Some(method), Some(target)) = (words.next(), words.next()) else {
        return None;
    };
    let outcome = if method == "GET" {
        classify(target, state)
    } else {
        Callback::Other
    };
    let (status, page, done) = match outcome {
        Callback::Other => ("404 Not Found", PAGE_OTHER, None),
        Callback::Code(code) => ("200 OK", PAGE_OK, Some(Ok(Secret::new(code)))),
        Callback::Denied { error, description } => (
            "200 OK",
            PAGE_FAILED,
            Some(Err(PkceError::Denied { error, description })),
        ),
        Callback::WrongState => (
            "400 Bad Request",
            PAGE_FAILED,
            Some(Err(PkceError::StateMismatch)),
        ),
    };
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nConnection: close\r\n\r\n{page}",
        page.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
    done
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_challenge_matches_the_rfc_7636_vector() {
        let v = Secret::new("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk".to_string());
        assert_eq!(challenge(&v), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    }

    #[test]
    fn verifiers_and_states_are_random_and_well_formed() {
        let (a, b) = (verifier(), verifier());
        assert_eq!(a.expose().len(), 64);
        assert!(a.expose().bytes().all(|c| UNRESERVED.contains(&c)));
        assert_ne!(a, b);
        assert_eq!(state().len(), 32);
        assert_ne!(state(), state());
    }

    #[test]
    fn the_authorize_url_carries_every_parameter_encoded() {
        let url = authorize_url(
            "http://127.0.0.1:9/",
            "cid",
            "http://127.0.0.1:4000/oauth/callback",
            "st",
            "ch",
            &["sso:account:access".into(), "x".into()],
        );
        assert_eq!(
            url,
            "http://127.0.0.1:9/authorize?response_type=code&client_id=cid&redirect_uri=\
             http%3A%2F%2F127.0.0.1%3A4000%2Foauth%2Fcallback&state=st&code_challenge_method=S256\
             &scopes=sso%3Aaccount%3Aaccess%20x&code_challenge=ch"
        );
    }

    #[test]
    fn callbacks_are_classified() {
        assert_eq!(
            classify("/oauth/callback?code=abc%2B1&state=s1", "s1"),
            Callback::Code("abc+1".into())
        );
        assert_eq!(
            classify("/oauth/callback?code=abc&state=s2", "s1"),
            Callback::WrongState
        );
        assert_eq!(
            classify("/oauth/callback?code=abc", "s1"),
            Callback::WrongState
        );
        assert_eq!(
            classify(
                "/oauth/callback?error=access_denied&error_description=The%20user%20denied&state=s1",
                "s1"
            ),
            Callback::Denied {
                error: "access_denied".into(),
                description: Some("The user denied".into())
            }
        );
        assert_eq!(classify("/favicon.ico", "s1"), Callback::Other);
        assert_eq!(classify("/oauth/callback", "s1"), Callback::Other);
    }

    #[test]
    fn constant_time_eq_is_equality() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }

    #[tokio::test]
    async fn the_listener_is_on_loopback_only_and_returns_the_code() {
        let loopback = Loopback::bind().await.unwrap();
        assert!(loopback.listener.local_addr().unwrap().ip().is_loopback());
        let uri = loopback.redirect_uri();
        assert!(uri.starts_with("http://127.0.0.1:"), "{uri}");
        let port = loopback.port;
        let waiting = tokio::spawn(loopback.wait("s1", Duration::from_secs(10)));
        for target in ["/favicon.ico", "/oauth/callback?code=C0DE&state=s1"] {
            let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
            s.write_all(format!("GET {target} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
                .await
                .unwrap();
            let mut page = String::new();
            s.read_to_string(&mut page).await.unwrap();
            assert!(page.starts_with("HTTP/1.1"), "{page}");
        }
        let code = waiting.await.unwrap().unwrap();
        assert_eq!(code.expose(), "C0DE");
    }

    #[tokio::test]
    async fn the_wait_ends_at_its_timeout() {
        let loopback = Loopback::bind().await.unwrap();
        let err = loopback
            .wait("s", Duration::from_millis(50))
            .await
            .unwrap_err();
        assert!(matches!(err, PkceError::Timeout), "{err}");
    }
}
