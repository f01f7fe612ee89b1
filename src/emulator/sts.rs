//! Role credentials minted by STS `AssumeRole` at another endpoint
//! (`keyless dev-server --sts-endpoint URL`), so that an AWS-compatible
//! test server (such as moto) accepts them for the right account: the
//! role `arn:aws:iam::<account>:role/<role-name>` is assumed there.

use aws_sdk_sts::config::{BehaviorVersion, Credentials, Region};

use super::error::{ApiError, ErrorKind};
use super::portal::GetRoleCredentialsResponse;
use crate::secret::Secret;

/// AssumeRole accepts 15 minutes to 12 hours.
const MIN_DURATION_SECS: u64 = 900;
const MAX_DURATION_SECS: u64 = 43_200;

/// An STS client for `endpoint`. The test server behind it takes any
/// signature; these placeholder credentials are not secrets.
pub fn client(endpoint: &str) -> aws_sdk_sts::Client {
    let config = aws_sdk_sts::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new(
            "KEYLESSDEVSERVER",
            "keyless-dev-server-placeholder",
            None,
            None,
            "keyless-dev-server",
        ))
        .build();
    aws_sdk_sts::Client::from_conf(config)
}

pub async fn assume(
    client: &aws_sdk_sts::Client,
    account_id: &str,
    role_name: &str,
    ttl_secs: u64,
) -> Result<GetRoleCredentialsResponse, ApiError> {
    let arn = format!("arn:aws:iam::{account_id}:role/{role_name}");
    let duration = ttl_secs.clamp(MIN_DURATION_SECS, MAX_DURATION_SECS);
    let out = client
        .assume_role()
        .role_arn(&arn)
        .role_session_name("keyless-dev-server")
        .duration_seconds(i32::try_from(duration).unwrap_or(3600))
        .send()
        .await
        .map_err(|e| {
            tracing::warn!("AssumeRole {arn} at the STS endpoint failed: {e}");
            ApiError::new(
                ErrorKind::InternalServer,
                format!("the STS endpoint refused AssumeRole for {arn}"),
            )
        })?;
    let creds = out.credentials().ok_or_else(|| {
        ApiError::new(
            ErrorKind::InternalServer,
            "the STS endpoint answered without credentials",
        )
    })?;
    let expiration_ms = creds
        .expiration()
        .secs()
        .saturating_mul(1000)
        .saturating_add(i64::from(creds.expiration().subsec_nanos() / 1_000_000));
    Ok(GetRoleCredentialsResponse::minted(
        creds.access_key_id().to_string(),
        Secret::new(creds.secret_access_key().to_string()),
        Secret::new(creds.session_token().to_string()),
        expiration_ms,
    ))
}
