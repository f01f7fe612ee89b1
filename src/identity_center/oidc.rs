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

/// A client registration as `RegisterClient` returns it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientRegistration {
    pub client_id: String,
    pub client_secret: Secret<String>,
    /// Epoch seconds.
    pub expires_at: i64,
    /// The scopes it was registered with.
    pub scopes: Vec<String>,
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
