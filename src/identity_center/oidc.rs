//! SSO OIDC: client registration, device authorization, token creation
//! and refresh (IDENTITY-CENTER.md §1).

use aws_sdk_ssooidc::operation::create_token::builders::CreateTokenFluentBuilder;
use aws_sdk_ssooidc::operation::create_token::{CreateTokenError, CreateTokenOutput};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;

use super::{ApiError, Clients};
use crate::secret::Secret;

pub const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
pub const REFRESH_GRANT: &str = "refresh_token";
pub const CODE_GRANT: &str = "authorization_code";
/// The redirect URI registered for the authorization-code grant: without a
/// port, so the loopback listener may use any (RFC 8252 §7.3).
pub const REGISTERED_REDIRECT_URI: &str = "http://127.0.0.1/oauth/callback";

/// A client registration as `RegisterClient` returns it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientRegistration {
    pub client_id: String,
    pub client_secret: Secret<String>,
    /// Epoch seconds.
    pub expires_at: i64,
    /// The scopes it was registered with.
    pub scopes: Vec<String>,
    /// Registered for the authorization-code grant (PKCE login).
    pub code_grant: bool,
}

/// A started device authorization.
#[derive(Clone, Debug)]
pub struct DeviceAuthorization {
    pub device_code: Secret<String>,
    pub user_code: String,
    pub verification_uri: String,
    pub verification_uri_complete: String,
    /// Relative seconds.
    pub expires_in: u64,
    /// Seconds between polls, if the server said.
    pub interval: Option<u64>,
}

/// Tokens from `CreateToken`.
#[derive(Clone, Debug)]
pub struct TokenGrant {
    pub access_token: Secret<String>,
    /// Relative seconds.
    pub expires_in: i64,
    pub refresh_token: Option<Secret<String>>,
}

impl Clients {
    /// `RegisterClient` for the device flow: no grant types, scopes from
    /// `sso_registration_scopes` so that refresh tokens are issued.
    pub async fn register_client(
        &self,
        client_name: &str,
        scopes: &[String],
    ) -> Result<ClientRegistration, ApiError> {
        const OP: &str = "RegisterClient";
        let out = self
            .oidc
            .register_client()
            .client_name(client_name)
            .client_type("public")
            .set_scopes((!scopes.is_empty()).then(|| scopes.to_vec()))
            .send()
            .await
            .map_err(|e| ApiError::from_sdk(OP, e))?;
        let client_id = out
            .client_id
            .ok_or_else(|| ApiError::malformed(OP, "no clientId in the response"))?;
        let client_secret = out
            .client_secret
            .ok_or_else(|| ApiError::malformed(OP, "no clientSecret in the response"))?;
        Ok(ClientRegistration {
            client_id,
            client_secret: Secret::new(client_secret),
            expires_at: out.client_secret_expires_at,
            scopes: scopes.to_vec(),
            code_grant: false,
        })
    }

    /// `RegisterClient` for the authorization-code grant: the
    /// `authorization_code` and `refresh_token` grants, the port-less
    /// loopback redirect URI, and the start URL as issuer.
    pub async fn register_client_for_code(
        &self,
        client_name: &str,
        scopes: &[String],
        issuer_url: &str,
    ) -> Result<ClientRegistration, ApiError> {
        const OP: &str = "RegisterClient";
        let out = self
            .oidc
            .register_client()
            .client_name(client_name)
            .client_type("public")
            .set_scopes((!scopes.is_empty()).then(|| scopes.to_vec()))
            .grant_types(CODE_GRANT)
            .grant_types(REFRESH_GRANT)
            .redirect_uris(REGISTERED_REDIRECT_URI)
            .issuer_url(issuer_url)
            .send()
            .await
            .map_err(|e| ApiError::from_sdk(OP, e))?;
        let client_id = out
            .client_id
            .ok_or_else(|| ApiError::malformed(OP, "no clientId in the response"))?;
        let client_secret = out
            .client_secret
            .ok_or_else(|| ApiError::malformed(OP, "no clientSecret in the response"))?;
        Ok(ClientRegistration {
            client_id,
            client_secret: Secret::new(client_secret),
            expires_at: out.client_secret_expires_at,
            scopes: scopes.to_vec(),
            code_grant: true,
        })
    }

    /// `StartDeviceAuthorization`.
    pub async fn start_device_authorization(
        &self,
        registration: &ClientRegistration,
        start_url: &str,
    ) -> Result<DeviceAuthorization, ApiError> {
        const OP: &str = "StartDeviceAuthorization";
        let out = self
            .oidc
            .start_device_authorization()
            .client_id(&registration.client_id)
            .client_secret(registration.client_secret.expose())
            .start_url(start_url)
            .send()
            .await
            .map_err(|e| ApiError::from_sdk(OP, e))?;
        let device_code = out
            .device_code
            .ok_or_else(|| ApiError::malformed(OP, "no deviceCode in the response"))?;
        let user_code = out.user_code.unwrap_or_default();
        let verification_uri = out
            .verification_uri
            .ok_or_else(|| ApiError::malformed(OP, "no verificationUri in the response"))?;
        let verification_uri_complete = out
            .verification_uri_complete
            .unwrap_or_else(|| verification_uri.clone());
        Ok(DeviceAuthorization {
            device_code: Secret::new(device_code),
            user_code,
            verification_uri,
            verification_uri_complete,
            expires_in: u64::try_from(out.expires_in).unwrap_or(0),
            interval: u64::try_from(out.interval).ok().filter(|i| *i > 0),
        })
    }

    /// One `CreateToken` poll with the device code.
    pub async fn create_token_with_device_code(
        &self,
        registration: &ClientRegistration,
        device: &DeviceAuthorization,
    ) -> Result<TokenGrant, ApiError> {
        let out = self
            .create_token(registration, DEVICE_GRANT)
            .device_code(device.device_code.expose())
            .send()
            .await;
        grant_from("CreateToken", out)
    }

    /// `CreateToken` with the refresh-token grant.
    pub async fn refresh_token(
        &self,
        registration: &ClientRegistration,
        refresh_token: &Secret<String>,
    ) -> Result<TokenGrant, ApiError> {
        let out = self
            .create_token(registration, REFRESH_GRANT)
            .refresh_token(refresh_token.expose())
            .send()
            .await;
        grant_from("CreateToken (refresh)", out)
    }

    /// `CreateToken` with an authorization code and its PKCE verifier; the
    /// redirect URI is exactly the one the browser was sent to.
    pub async fn create_token_with_code(
        &self,
        registration: &ClientRegistration,
        code: &Secret<String>,
        verifier: &Secret<String>,
        redirect_uri: &str,
    ) -> Result<TokenGrant, ApiError> {
        let out = self
            .create_token(registration, CODE_GRANT)
            .code(code.expose())
            .code_verifier(verifier.expose())
            .redirect_uri(redirect_uri)
            .send()
            .await;
        grant_from("CreateToken (authorization code)", out)
    }

    fn create_token(
        &self,
        registration: &ClientRegistration,
        grant: &str,
    ) -> CreateTokenFluentBuilder {
        self.oidc
            .create_token()
            .client_id(&registration.client_id)
            .client_secret(registration.client_secret.expose())
            .grant_type(grant)
    }
}

/// The base URL of the OIDC service, where the browser's `/authorize` is:
/// `AWS_ENDPOINT_URL_SSO_OIDC`, else `AWS_ENDPOINT_URL`, else the regional
/// endpoint.
pub fn oidc_base_url(var: impl Fn(&str) -> Option<String>, region: &str) -> String {
    ["AWS_ENDPOINT_URL_SSO_OIDC", "AWS_ENDPOINT_URL"]
        .iter()
        .find_map(|name| var(name).filter(|v| !v.is_empty()))
        .map(|url| url.trim_end_matches('/').to_string())
        .unwrap_or_else(|| format!("https://oidc.{region}.amazonaws.com"))
}

fn grant_from(
    op: &'static str,
    out: Result<CreateTokenOutput, SdkError<CreateTokenError, HttpResponse>>,
) -> Result<TokenGrant, ApiError> {
    let out = out.map_err(|e| ApiError::from_sdk(op, e))?;
    let access_token = out
        .access_token
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::malformed(op, "no accessToken in the response"))?;
    Ok(TokenGrant {
        access_token: Secret::new(access_token),
        expires_in: i64::from(out.expires_in),
        refresh_token: out.refresh_token.filter(|t| !t.is_empty()).map(Secret::new),
    })
}
