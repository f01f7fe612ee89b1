//! The authorization-code (PKCE) login, IDENTITY-CENTER.md §7: the browser
//! endpoint `GET /authorize`, which redirects to the client's loopback
//! `redirect_uri` with a code, and the code exchange in CreateToken.

use std::collections::HashMap;

use data_encoding::BASE64URL_NOPAD;
use sha2::{Digest, Sha256};

use super::config::Approval;
use super::error::{ApiError, ErrorKind};
use super::issue;
use super::oidc::{GRANT_AUTHORIZATION_CODE, secs};
use super::state::{AuthorizationCode, Inner};
use crate::secret::Secret;

/// What `/authorize` answers.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// 302 to this URL (the client's redirect URI with `code` or `error`).
    Redirect(String),
    /// A page asking the person to approve or deny; the links carry `action`.
    Ask {
        approve_url: String,
        deny_url: String,
    },
    /// The request cannot be trusted enough to redirect: show this message.
    Refuse(String),
}

/// Decides an `/authorize` request. `action` is `approve` or `deny` when
/// the person clicked one of the links of the `Ask` page.
pub fn authorize(inner: &mut Inner, query: &HashMap<String, String>) -> Outcome {
    let get = |name: &str| {
        query
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    };
    let Some(client_id) = get("client_id") else {
        return Outcome::Refuse("client_id is missing".into());
    };
    let now_s = inner.now_s();
    let Some(registration) = inner
        .registrations
        .get(client_id)
        .filter(|r| now_s < r.expires_at_s)
    else {
        return Outcome::Refuse("the client is not registered, or its registration expired".into());
    };
    let Some(redirect_uri) = get("redirect_uri") else {
        return Outcome::Refuse("redirect_uri is missing".into());
    };
    if !registration
        .redirect_uris
        .iter()
        .any(|registered| redirect_matches(registered, redirect_uri))
    {
        return Outcome::Refuse(format!(
            "redirect_uri {redirect_uri} was not registered by this client"
        ));
    }
    let may_use_codes = registration
        .grant_types
        .as_ref()
        .is_some_and(|g| g.iter().any(|g| g == GRANT_AUTHORIZATION_CODE));
    let state = get("state");
    let fail = |error: &str, description: &str| {
        Outcome::Redirect(with_params(
            redirect_uri,
            &[
                ("error", Some(error)),
                ("error_description", Some(description)),
                ("state", state),
            ],
        ))
    };
    if get("response_type") != Some("code") {
        return fail("unsupported_response_type", "response_type must be code");
    }
    if !may_use_codes {
        return fail(
            "unauthorized_client",
            "the client did not register the authorization_code grant",
        );
    }
    let method = get("code_challenge_method").unwrap_or("plain");
    let Some(challenge) = get("code_challenge").filter(|_| matches!(method, "S256" | "plain"))
    else {
        return fail(
            "invalid_request",
            "code_challenge with code_challenge_method S256 is required",
        );
    };
    let approve = match (get("action"), inner.config.approval) {
        (Some("deny"), _) | (None, Approval::Deny) => false,
        (Some("approve"), _) | (_, Approval::Auto { .. }) => true,
        _ => {
            return Outcome::Ask {
                approve_url: with_action(query, "approve"),
                deny_url: with_action(query, "deny"),
            };
        }
    };
    if !approve {
        return fail("access_denied", "The user denied the request");
    }
    let code = issue::device_code(&inner.config.secret_marker);
    let record = AuthorizationCode {
        client_id: client_id.to_string(),
        redirect_uri: redirect_uri.to_string(),
        challenge: challenge.to_string(),
        s256: method == "S256",
        expires_at_ms: inner
            .now_ms()
            .saturating_add(secs(inner.config.device_code_ttl_secs).saturating_mul(1000)),
    };
    let target = with_params(redirect_uri, &[("code", Some(&code)), ("state", state)]);
    inner.authorization_codes.insert(code, record);
    Outcome::Redirect(target)
}

/// CreateToken with `grantType=authorization_code`: the session of a
/// valid, unused, unexpired code whose redirect URI and verifier match.
pub fn redeem(
    inner: &mut Inner,
    client_id: &str,
    code: Option<String>,
    redirect_uri: Option<String>,
    code_verifier: Option<Secret<String>>,
) -> Result<(), ApiError> {
    let (Some(code), Some(redirect_uri), Some(verifier)) = (code, redirect_uri, code_verifier)
    else {
        return Err(ApiError::invalid_request(
            "code, redirectUri and codeVerifier are required",
        ));
    };
    let invalid = || {
        ApiError::new(
            ErrorKind::InvalidGrant,
            "Invalid authorization code provided",
        )
    };
    // A code is single-use: it is gone whatever the outcome.
    let record = inner
        .authorization_codes
        .remove(&code)
        .filter(|r| r.client_id == client_id)
        .ok_or_else(invalid)?;
    if inner.now_ms() >= record.expires_at_ms {
        return Err(ApiError::new(
            ErrorKind::ExpiredToken,
            "Authorization code has expired",
        ));
    }
    let expected = if record.s256 {
        BASE64URL_NOPAD.encode(&Sha256::digest(verifier.expose().as_bytes()))
    } else {
        verifier.expose().clone()
    };
    if record.redirect_uri != redirect_uri || record.challenge != expected {
        return Err(invalid());
    }
    Ok(())
}

/// Equal, or equal but for the port of a loopback redirect (RFC 8252 §7.3:
/// the CLI registers `http://127.0.0.1/oauth/callback` and listens on any
/// port).
fn redirect_matches(registered: &str, actual: &str) -> bool {
    registered == actual
        || (is_loopback(registered) && without_port(actual).as_deref() == Some(registered))
}

fn split_authority(uri: &str) -> Option<(&str, &str, &str)> {
    let rest = uri.strip_prefix("http://")?;
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    Some(("http://", authority, path))
}

fn is_loopback(uri: &str) -> bool {
    split_authority(uri).is_some_and(|(_, authority, _)| {
        let host = authority.rsplit_once(':').map_or(authority, |(h, _)| h);
        matches!(host, "127.0.0.1" | "localhost" | "[::1]")
    })
}

fn without_port(uri: &str) -> Option<String> {
    let (scheme, authority, path) = split_authority(uri)?;
    let host = match authority.rsplit_once(':') {
        Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host,
        _ => authority,
    };
    Some(format!("{scheme}{host}{path}"))
}

fn with_params(base: &str, params: &[(&str, Option<&str>)]) -> String {
    let mut url = base.to_string();
    let mut separator = if base.contains('?') { '&' } else { '?' };
    for (name, value) in params {
        if let Some(value) = value {
            url.push(separator);
            url.push_str(name);
            url.push('=');
            url.push_str(&percent_encode(value));
            separator = '&';
        }
    }
    url
}

fn with_action(query: &HashMap<String, String>, action: &str) -> String {
    let mut names: Vec<&String> = query.keys().filter(|k| *k != "action").collect();
    names.sort();
    let params: Vec<(&str, Option<&str>)> = names
        .into_iter()
        .map(|k| (k.as_str(), Some(query[k].as_str())))
        .chain([("action", Some(action))])
        .collect();
    with_params("/authorize", &params)
}

/// RFC 3986 percent-encoding of everything but unreserved characters.
pub fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s256_matches_the_rfc_7636_vector() {
        let challenge = BASE64URL_NOPAD.encode(&Sha256::digest(
            b"dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
        ));
        assert_eq!(challenge, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    }

    #[test]
    fn loopback_redirects_match_on_any_port() {
        let registered = "http://127.0.0.1/oauth/callback";
        assert!(redirect_matches(
            registered,
            "http://127.0.0.1:44465/oauth/callback"
        ));
        assert!(redirect_matches(registered, registered));
        assert!(!redirect_matches(
            registered,
            "http://127.0.0.1:44465/other"
        ));
        assert!(!redirect_matches(
            registered,
            "http://evil.example:80/oauth/callback"
        ));
        assert!(!redirect_matches(
            "https://app.example/cb",
            "https://app.example:8443/cb"
        ));
        assert!(!redirect_matches(
            registered,
            "http://127.0.0.1:44465@evil/oauth/callback"
        ));
    }

    #[test]
    fn params_are_percent_encoded() {
        assert_eq!(
            with_params(
                "http://127.0.0.1:1/cb",
                &[("state", Some("a b&c")), ("x", None)]
            ),
            "http://127.0.0.1:1/cb?state=a%20b%26c"
        );
        assert_eq!(
            with_params("http://h/cb?k=v", &[("code", Some("Z-_"))]),
            "http://h/cb?k=v&code=Z-_"
        );
    }
}
