//! SSO OIDC: RegisterClient, StartDeviceAuthorization and CreateToken
//! (device-code and refresh-token grants), IDENTITY-CENTER.md §1.

use serde::{Deserialize, Serialize};

use super::authorize;
use super::config::{
    Approval, CLIENT_DEFAULT_INTERVAL_SECS, PollAnswer, RefreshRotation, RefreshTokens,
    SLOW_DOWN_STEP_SECS,
};
use super::error::{ApiError, ErrorKind};
use super::issue::{self, IssuedSecret};
use super::state::{
    AccessRecord, DeviceAuthorization, DeviceState, Inner, RefreshRecord, Registration,
};
use crate::secret::{Secret, serialize_exposed, serialize_exposed_option};

pub const GRANT_DEVICE_CODE: &str = "urn:ietf:params:oauth:grant-type:device_code";
pub const GRANT_REFRESH_TOKEN: &str = "refresh_token";
pub const GRANT_AUTHORIZATION_CODE: &str = "authorization_code";
const KNOWN_GRANTS: [&str; 3] = [
    GRANT_DEVICE_CODE,
    GRANT_REFRESH_TOKEN,
    GRANT_AUTHORIZATION_CODE,
];

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegisterClientRequest {
    client_name: Option<String>,
    client_type: Option<String>,
    #[serde(default)]
    scopes: Vec<String>,
    grant_types: Option<Vec<String>>,
    #[serde(default)]
    redirect_uris: Vec<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RegisterClientResponse {
    client_id: String,
    #[serde(serialize_with = "serialize_exposed")]
    client_secret: Secret<String>,
    /// epoch-s
    client_id_issued_at: i64,
    /// epoch-s
    client_secret_expires_at: i64,
}

pub fn register_client(
    inner: &mut Inner,
    req: RegisterClientRequest,
) -> Result<RegisterClientResponse, ApiError> {
    if req.client_name.as_deref().is_none_or(str::is_empty) {
        return Err(ApiError::invalid_request("clientName is required"));
    }
    match req.client_type.as_deref() {
        None => return Err(ApiError::invalid_request("clientType is required")),
        Some("public") => {}
        Some(_) => {
            return Err(ApiError::new(
                ErrorKind::InvalidClientMetadata,
                "clientType must be 'public'",
            ));
        }
    }
    if let Some(unknown) = req
        .grant_types
        .iter()
        .flatten()
        .find(|g| !KNOWN_GRANTS.contains(&g.as_str()))
    {
        return Err(ApiError::new(
            ErrorKind::UnsupportedGrantType,
            format!("Unsupported grant type: {unknown}"),
        ));
    }
    if let Some(bad) = req
        .redirect_uris
        .iter()
        .find(|u| !(u.starts_with("http://") || u.starts_with("https://")))
    {
        return Err(ApiError::new(
            ErrorKind::InvalidRedirectUri,
            format!("Invalid redirect URI: {bad}"),
        ));
    }
    let wants_codes = req
        .grant_types
        .iter()
        .flatten()
        .any(|g| g == GRANT_AUTHORIZATION_CODE);
    if wants_codes && req.redirect_uris.is_empty() {
        return Err(ApiError::new(
            ErrorKind::InvalidRedirectUri,
            "redirectUris are required for the authorization_code grant",
        ));
    }
    let now = inner.now_s();
    let expires_at_s = now.saturating_add(secs(inner.config.registration_ttl_secs));
    let client_id = issue::client_id();
    let secret = issue::client_secret(&inner.config.secret_marker);
    let response = RegisterClientResponse {
        client_id: client_id.clone(),
        client_secret: secret.clone(),
        client_id_issued_at: now,
        client_secret_expires_at: expires_at_s,
    };
    inner.registrations.insert(
        client_id,
        Registration {
            secret,
            expires_at_s,
            scopes: req.scopes,
            grant_types: req.grant_types,
            redirect_uris: req.redirect_uris,
        },
    );
    Ok(response)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StartDeviceAuthorizationRequest {
    client_id: Option<String>,
    client_secret: Option<Secret<String>>,
    start_url: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StartDeviceAuthorizationResponse {
    device_code: String,
    user_code: String,
    verification_uri: String,
    verification_uri_complete: String,
    /// relative seconds
    expires_in: u64,
    /// relative seconds
    #[serde(skip_serializing_if = "Option::is_none")]
    interval: Option<u64>,
}

pub fn start_device_authorization(
    inner: &mut Inner,
    req: StartDeviceAuthorizationRequest,
    base_url: &str,
) -> Result<StartDeviceAuthorizationResponse, ApiError> {
    let client_id = check_client(inner, req.client_id, req.client_secret)?;
    if req.start_url.as_deref().is_none_or(str::is_empty) {
        return Err(ApiError::invalid_request("startUrl is required"));
    }
    inner.prune();
    let user_code = loop {
        let code = issue::user_code();
        if !inner.devices.values().any(|d| d.user_code == code) {
            break code;
        }
    };
    let config = &inner.config;
    let device_code = issue::device_code(&config.secret_marker);
    let ttl = config.device_code_ttl_secs;
    let device = DeviceAuthorization {
        client_id,
        user_code: user_code.clone(),
        expires_at_ms: inner
            .now_ms()
            .saturating_add(secs(ttl).saturating_mul(1000)),
        state: DeviceState::Pending,
        polls: 0,
        script: config.poll_script.iter().copied().collect(),
        last_poll_ms: None,
        interval_ms: secs(
            config
                .poll_interval_secs
                .unwrap_or(CLIENT_DEFAULT_INTERVAL_SECS),
        )
        .saturating_mul(1000),
    };
    let response = StartDeviceAuthorizationResponse {
        device_code: device_code.clone(),
        verification_uri: format!("{base_url}/device"),
        verification_uri_complete: format!("{base_url}/device?user_code={user_code}"),
        user_code,
        expires_in: ttl,
        interval: config.poll_interval_secs,
    };
    inner.devices.insert(device_code, device);
    Ok(response)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateTokenRequest {
    client_id: Option<String>,
    client_secret: Option<Secret<String>>,
    pub grant_type: Option<String>,
    device_code: Option<String>,
    refresh_token: Option<Secret<String>>,
    code: Option<String>,
    redirect_uri: Option<String>,
    code_verifier: Option<Secret<String>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateTokenResponse {
    #[serde(serialize_with = "serialize_exposed")]
    access_token: Secret<String>,
    token_type: &'static str,
    /// relative seconds
    expires_in: u64,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "serialize_exposed_option"
    )]
    refresh_token: Option<Secret<String>>,
}

pub fn create_token(
    inner: &mut Inner,
    req: CreateTokenRequest,
) -> Result<CreateTokenResponse, ApiError> {
    let client_id = check_client(inner, req.client_id, req.client_secret)?;
    let Some(grant) = req.grant_type else {
        return Err(ApiError::invalid_request("grantType is required"));
    };
    if !KNOWN_GRANTS.contains(&grant.as_str()) {
        return Err(ApiError::of(ErrorKind::UnsupportedGrantType));
    }
    let allowed = inner.registrations.get(&client_id).is_some_and(|r| {
        r.grant_types
            .as_ref()
            .is_none_or(|grants| grants.contains(&grant))
    });
    if !allowed {
        return Err(ApiError::of(ErrorKind::UnauthorizedClient));
    }
    match grant.as_str() {
        GRANT_DEVICE_CODE => match req.device_code {
            Some(code) => poll_device(inner, &client_id, &code),
            None => Err(ApiError::invalid_request("deviceCode is required")),
        },
        GRANT_REFRESH_TOKEN => match req.refresh_token {
            Some(token) => refresh(inner, &client_id, token),
            None => Err(ApiError::invalid_request("refreshToken is required")),
        },
        GRANT_AUTHORIZATION_CODE => {
            authorize::redeem(
                inner,
                &client_id,
                req.code,
                req.redirect_uri,
                req.code_verifier,
            )?;
            let session = inner.new_session();
            let refresh = wants_refresh_token(inner, &client_id);
            Ok(issue_tokens(inner, &client_id, session, refresh))
        }
        _ => Err(ApiError::of(ErrorKind::UnsupportedGrantType)),
    }
}

/// The client ID if it is registered, its secret matches and the
/// registration has not expired; InvalidClientException otherwise.
fn check_client(
    inner: &Inner,
    client_id: Option<String>,
    client_secret: Option<Secret<String>>,
) -> Result<String, ApiError> {
    let (Some(client_id), Some(client_secret)) = (client_id, client_secret) else {
        return Err(ApiError::invalid_request(
            "clientId and clientSecret are required",
        ));
    };
    let Some(registration) = inner.registrations.get(&client_id) else {
        return Err(ApiError::of(ErrorKind::InvalidClient));
    };
    if registration.secret != client_secret {
        return Err(ApiError::of(ErrorKind::InvalidClient));
    }
    if inner.now_s() >= registration.expires_at_s {
        return Err(ApiError::new(
            ErrorKind::InvalidClient,
            "Client registration has expired",
        ));
    }
    Ok(client_id)
}

fn poll_device(
    inner: &mut Inner,
    client_id: &str,
    device_code: &str,
) -> Result<CreateTokenResponse, ApiError> {
    let now = inner.now_ms();
    let approval = inner.config.approval;
    let enforce_interval = inner.config.enforce_poll_interval;
    let Some(device) = inner
        .devices
        .get_mut(device_code)
        .filter(|d| d.client_id == client_id && d.state != DeviceState::Used)
    else {
        return Err(ApiError::new(
            ErrorKind::InvalidGrant,
            "Invalid device code provided",
        ));
    };
    if now >= device.expires_at_ms {
        return Err(ApiError::of(ErrorKind::ExpiredToken));
    }
    let polls_before = device.polls;
    device.polls = device.polls.saturating_add(1);
    let too_soon = device
        .last_poll_ms
        .is_some_and(|last| now.saturating_sub(last) < device.interval_ms);
    device.last_poll_ms = Some(now);
    let answer = if enforce_interval && too_soon {
        PollAnswer::SlowDown
    } else if let Some(scripted) = device.script.pop_front() {
        scripted
    } else {
        match (device.state, approval) {
            (DeviceState::Approved, _) => PollAnswer::Success,
            (DeviceState::Denied, _) | (_, Approval::Deny) => PollAnswer::Denied,
            (_, Approval::Auto { after_polls }) if polls_before >= after_polls => {
                PollAnswer::Success
            }
            _ => PollAnswer::Pending,
        }
    };
    match answer {
        PollAnswer::Pending => Err(ApiError::of(ErrorKind::AuthorizationPending)),
        PollAnswer::SlowDown => {
            let step = secs(SLOW_DOWN_STEP_SECS).saturating_mul(1000);
            device.interval_ms = device.interval_ms.saturating_add(step);
            Err(ApiError::of(ErrorKind::SlowDown))
        }
        PollAnswer::Expired => Err(ApiError::of(ErrorKind::ExpiredToken)),
        PollAnswer::Denied => Err(ApiError::of(ErrorKind::AccessDenied)),
        PollAnswer::Success => {
            device.state = DeviceState::Used;
            let session = inner.new_session();
            let refresh = wants_refresh_token(inner, client_id);
            Ok(issue_tokens(inner, client_id, session, refresh))
        }
    }
}

fn wants_refresh_token(inner: &Inner, client_id: &str) -> bool {
    match inner.config.refresh_tokens {
        RefreshTokens::Always => true,
        RefreshTokens::Never => false,
        RefreshTokens::WhenScoped => inner
            .registrations
            .get(client_id)
            .is_some_and(|r| !r.scopes.is_empty()),
    }
}

fn refresh(
    inner: &mut Inner,
    client_id: &str,
    token: Secret<String>,
) -> Result<CreateTokenResponse, ApiError> {
    let key = IssuedSecret::new(token);
    let Some(session) = inner
        .refresh_tokens
        .get(&key)
        .filter(|r| r.client_id == client_id)
        .map(|r| r.session)
    else {
        return Err(ApiError::new(
            ErrorKind::InvalidGrant,
            "Invalid refresh token provided",
        ));
    };
    match inner.config.refresh_rotation {
        RefreshRotation::Rotate => {
            inner.refresh_tokens.remove(&key);
            Ok(issue_tokens(inner, client_id, session, true))
        }
        RefreshRotation::Omit => Ok(issue_tokens(inner, client_id, session, false)),
        RefreshRotation::Same => {
            let mut response = issue_tokens(inner, client_id, session, false);
            response.refresh_token = Some(key.secret().clone());
            Ok(response)
        }
    }
}

fn issue_tokens(
    inner: &mut Inner,
    client_id: &str,
    session: u64,
    with_refresh_token: bool,
) -> CreateTokenResponse {
    inner.prune();
    let ttl = inner.config.access_token_ttl_secs;
    let access_token = issue::access_token(&inner.config.secret_marker);
    inner.access_tokens.insert(
        IssuedSecret::new(access_token.clone()),
        AccessRecord {
            session,
            expires_at_ms: inner
                .now_ms()
                .saturating_add(secs(ttl).saturating_mul(1000)),
        },
    );
    let refresh_token = with_refresh_token.then(|| {
        let token = issue::refresh_token(&inner.config.secret_marker);
        inner.refresh_tokens.insert(
            IssuedSecret::new(token.clone()),
            RefreshRecord {
                client_id: client_id.to_string(),
                session,
            },
        );
        token
    });
    CreateTokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: ttl,
        refresh_token,
    }
}

/// Seconds as a signed count, saturating.
pub fn secs(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}
