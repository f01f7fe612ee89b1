//! STS: `AssumeRole` into each account, `GetCallerIdentity` for the one
//! account of a profile.

use std::time::{Duration, SystemTime};

use aws_config::SdkConfig;
use aws_sdk_iam::config::Credentials;

use super::AwsError;

/// The session name keyless uses, visible in CloudTrail.
pub const SESSION_NAME: &str = "keyless-audit";
/// Long enough for one account's audit.
pub const SESSION_DURATION_SECS: i32 = 3600;

#[derive(Debug, Clone)]
pub struct Sts {
    client: aws_sdk_sts::Client,
}

impl Sts {
    pub fn new(config: &SdkConfig) -> Sts {
        Sts {
            client: aws_sdk_sts::Client::new(config),
        }
    }

    /// Temporary credentials for `role_arn`. The secret parts go straight
    /// into the SDK's `Credentials`, whose `Debug` redacts them.
    pub async fn assume_role(&self, role_arn: &str) -> Result<Credentials, AwsError> {
        const OP: &str = "AssumeRole";
        let out = self
            .client
            .assume_role()
            .role_arn(role_arn)
            .role_session_name(SESSION_NAME)
            .duration_seconds(SESSION_DURATION_SECS)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk(OP, e))?;
        let creds = out
            .credentials()
            .ok_or_else(|| AwsError::other(OP, "the answer has no credentials"))?;
        let expiry = u64::try_from(creds.expiration().secs())
            .ok()
            .map(|s| SystemTime::UNIX_EPOCH + Duration::from_secs(s));
        Ok(Credentials::new(
            creds.access_key_id(),
            creds.secret_access_key(),
            Some(creds.session_token().to_string()),
            expiry,
            "keyless-assume-role",
        ))
    }

    /// The account the configured credentials belong to.
    pub async fn account(&self) -> Result<String, AwsError> {
        self.identity().await.map(|(account, _)| account)
    }

    /// The account and ARN the configured credentials belong to.
    pub async fn identity(&self) -> Result<(String, String), AwsError> {
        const OP: &str = "GetCallerIdentity";
        let out = self
            .client
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| AwsError::from_sdk(OP, e))?;
        match (out.account(), out.arn()) {
            (Some(account), Some(arn)) => Ok((account.to_string(), arn.to_string())),
            _ => Err(AwsError::other(OP, "the answer has no account or ARN")),
        }
    }
}
