//! The SSO portal: GetRoleCredentials, ListAccounts, ListAccountRoles and
//! Logout, IDENTITY-CENTER.md §2. Every call carries the access token in
//! `x-amz-sso_bearer_token`.

use std::collections::HashMap;

use data_encoding::BASE64URL_NOPAD;
use serde::Serialize;

use super::config::MAX_PAGE_SIZE;
use super::error::{ApiError, ErrorKind};
use super::issue::{self, IssuedSecret};
use super::oidc::secs;
use super::state::Inner;
use crate::secret::{Secret, serialize_exposed, serialize_exposed_option};

/// The portal's query parameters, by wire name.
pub type Query = HashMap<String, String>;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleCredentials {
    access_key_id: String,
    #[serde(serialize_with = "serialize_exposed")]
    secret_access_key: Secret<String>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "serialize_exposed_option"
    )]
    session_token: Option<Secret<String>>,
    /// epoch-ms
    expiration: i64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GetRoleCredentialsResponse {
    role_credentials: RoleCredentials,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountInfo<'a> {
    account_id: &'a str,
    account_name: &'a str,
    email_address: &'a str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListAccountsResponse<'a> {
    account_list: Vec<AccountInfo<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleInfo<'a> {
    role_name: &'a str,
    account_id: &'a str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListAccountRolesResponse<'a> {
    role_list: Vec<RoleInfo<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

/// The session of a live access token; UnauthorizedException for a missing,
/// unknown, expired or logged-out one.
pub fn authenticate(inner: &Inner, bearer: Option<Secret<String>>) -> Result<u64, ApiError> {
    let unauthorized = || ApiError::of(ErrorKind::Unauthorized);
    let token = bearer.ok_or_else(unauthorized)?;
    let record = inner
        .access_tokens
        .get(&IssuedSecret::new(token))
        .ok_or_else(unauthorized)?;
    if inner.now_ms() >= record.expires_at_ms {
        return Err(unauthorized());
    }
    Ok(record.session)
}

fn required<'q>(query: &'q Query, name: &str) -> Result<&'q str, ApiError> {
    query
        .get(name)
        .map(String::as_str)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| ApiError::invalid_request(format!("{name} is required")))
}

/// The account and role of a GetRoleCredentials request whose token is
/// live and whose role is assigned to it.
pub fn authorize_role(
    inner: &Inner,
    bearer: Option<Secret<String>>,
    query: &Query,
) -> Result<(String, String), ApiError> {
    authenticate(inner, bearer)?;
    let account_id = required(query, "account_id")?;
    let role_name = required(query, "role_name")?;
    let assigned = inner
        .account_position(account_id)
        .and_then(|i| inner.config.accounts.get(i))
        .is_some_and(|a| a.roles.iter().any(|r| r == role_name));
    if !assigned {
        return Err(ApiError::of(ErrorKind::Forbidden));
    }
    Ok((account_id.to_string(), role_name.to_string()))
}

pub fn get_role_credentials(
    inner: &Inner,
    bearer: Option<Secret<String>>,
    query: &Query,
) -> Result<GetRoleCredentialsResponse, ApiError> {
    let (account_id, _) = authorize_role(inner, bearer, query)?;
    let config = &inner.config;
    let ttl_ms = secs(config.role_credential_ttl_secs).saturating_mul(1000);
    let marker = &config.secret_marker;
    Ok(GetRoleCredentialsResponse {
        role_credentials: RoleCredentials {
            access_key_id: issue::access_key_id(&config.access_key_prefix, &account_id),
            secret_access_key: issue::secret_access_key(marker),
            session_token: (!config.omit_session_token).then(|| issue::session_token(marker)),
            expiration: inner.now_ms().saturating_add(ttl_ms),
        },
    })
}

impl GetRoleCredentialsResponse {
    /// Credentials minted elsewhere (STS AssumeRole, with `--sts-endpoint`).
    pub fn minted(
        access_key_id: String,
        secret_access_key: Secret<String>,
        session_token: Secret<String>,
        expiration_ms: i64,
    ) -> Self {
        GetRoleCredentialsResponse {
            role_credentials: RoleCredentials {
                access_key_id,
                secret_access_key,
                session_token: Some(session_token),
                expiration: expiration_ms,
            },
        }
    }
}

pub fn list_accounts<'a>(
    inner: &'a Inner,
    bearer: Option<Secret<String>>,
    query: &Query,
) -> Result<ListAccountsResponse<'a>, ApiError> {
    authenticate(inner, bearer)?;
    let accounts = &inner.config.accounts;
    let (range, next_token) = page(inner, query, "accounts", accounts.len())?;
    Ok(ListAccountsResponse {
        account_list: accounts[range]
            .iter()
            .map(|a| AccountInfo {
                account_id: &a.account_id,
                account_name: &a.account_name,
                email_address: &a.email_address,
            })
            .collect(),
        next_token,
    })
}

pub fn list_account_roles<'a>(
    inner: &'a Inner,
    bearer: Option<Secret<String>>,
    query: &Query,
) -> Result<ListAccountRolesResponse<'a>, ApiError> {
    authenticate(inner, bearer)?;
    let account_id = required(query, "account_id")?;
    let Some(account) = inner
        .account_position(account_id)
        .and_then(|i| inner.config.accounts.get(i))
    else {
        return Err(ApiError::new(
            ErrorKind::ResourceNotFound,
            "The requested account was not found",
        ));
    };
    let scope = format!("roles:{account_id}");
    let (range, next_token) = page(inner, query, &scope, account.roles.len())?;
    Ok(ListAccountRolesResponse {
        role_list: account.roles[range]
            .iter()
            .map(|r| RoleInfo {
                role_name: r,
                account_id: &account.account_id,
            })
            .collect(),
        next_token,
    })
}

pub fn logout(inner: &mut Inner, bearer: Option<Secret<String>>) -> Result<(), ApiError> {
    let session = authenticate(inner, bearer)?;
    inner.end_session(session);
    Ok(())
}

/// The slice of a list of `len` items that `max_result` and `next_token`
/// select, and the token of the page after it (none on the last page).
/// Tokens are opaque: base64url of the list's scope and the next offset.
fn page(
    inner: &Inner,
    query: &Query,
    scope: &str,
    len: usize,
) -> Result<(std::ops::Range<usize>, Option<String>), ApiError> {
    let size = match query.get("max_result") {
        None => inner.config.default_page_size,
        Some(raw) => raw
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_PAGE_SIZE).contains(n))
            .ok_or_else(|| {
                ApiError::invalid_request(format!(
                    "max_result must be a number from 1 to {MAX_PAGE_SIZE}"
                ))
            })?,
    };
    let start = match query.get("next_token") {
        None => 0,
        Some(token) => decode_page_token(token, scope)
            .filter(|&offset| offset > 0 && offset < len)
            .ok_or_else(|| ApiError::invalid_request("Invalid next token"))?,
    };
    let end = start.saturating_add(size).min(len);
    let next = (end < len).then(|| BASE64URL_NOPAD.encode(format!("{scope}|{end}").as_bytes()));
    Ok((start..end, next))
}

fn decode_page_token(token: &str, scope: &str) -> Option<usize> {
    let bytes = BASE64URL_NOPAD.decode(token.as_bytes()).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (token_scope, offset) = text.rsplit_once('|')?;
    (token_scope == scope).then(|| offset.parse().ok())?
}
