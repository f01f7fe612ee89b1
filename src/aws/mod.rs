//! Thin clients for IAM, STS, Organizations and the Identity Center
//! identity store over the AWS SDK, returning keyless's own types.
//!
//! Endpoints follow the SDK's rules, so `AWS_ENDPOINT_URL_IAM`,
//! `AWS_ENDPOINT_URL_STS`, `AWS_ENDPOINT_URL_ORGANIZATIONS`,
//! `AWS_ENDPOINT_URL_IDENTITYSTORE`, `AWS_ENDPOINT_URL` and profile
//! `endpoint_url` settings apply. Throttling and 5xx answers are retried by the SDK's standard strategy.

pub mod iam;
pub mod identitystore;
pub mod organizations;
pub mod sts;

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// IAM throttles per account; retry patiently, with jittered backoff.
pub const MAX_ATTEMPTS: u32 = 6;
pub const INITIAL_BACKOFF: Duration = Duration::from_millis(200);
pub const MAX_BACKOFF: Duration = Duration::from_secs(5);
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(30);
/// The region for the global services when the profile names none.
pub const DEFAULT_REGION: &str = "us-east-1";

/// What failed, in which operation. Server messages are kept (they carry no
/// secret); request contents never are.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{operation}: {detail}")]
pub struct AwsError {
    pub operation: &'static str,
    /// The service's error code (`AccessDenied`, …) when it sent one.
    pub code: Option<String>,
    pub detail: String,
    /// The next step, when the failure was not the service's answer.
    pub hint: Option<&'static str>,
}

impl AwsError {
    pub(crate) fn from_sdk<E>(operation: &'static str, err: SdkError<E, HttpResponse>) -> AwsError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        match &err {
            SdkError::ServiceError(service) => {
                let status = service.raw().status().as_u16();
                let code = service.err().code().map(str::to_string);
                let message = service.err().message().unwrap_or_default();
                let detail = match &code {
                    Some(code) if message.is_empty() => format!("{code} (HTTP {status})"),
                    Some(code) => format!("{code} (HTTP {status}): {message}"),
                    None => format!("HTTP {status} {message}").trim_end().to_string(),
                };
                AwsError {
                    operation,
                    code,
                    detail,
                    hint: None,
                }
            }
            SdkError::TimeoutError(_) => AwsError {
                operation,
                code: None,
                detail: "no answer in time".into(),
                hint: Some("check the network connection and try again"),
            },
            _ => AwsError {
                operation,
                code: None,
                detail: root_cause(&err),
                hint: Some("check the network connection and the endpoint"),
            },
        }
    }

    pub(crate) fn other(operation: &'static str, detail: impl Into<String>) -> AwsError {
        AwsError {
            operation,
            code: None,
            detail: detail.into(),
            hint: None,
        }
    }

    /// The next step, for the `hint:` line.
    pub fn hint(&self) -> Option<String> {
        self.hint.map(String::from)
    }
}

fn root_cause(err: &dyn std::error::Error) -> String {
    let mut current: &dyn std::error::Error = err;
    while let Some(source) = current.source() {
        current = source;
    }
    current.to_string()
}

/// The shared SDK configuration: region, retries and timeouts, and the
/// credentials of `profile` (the SDK's default chain for that profile), or
/// no credentials at all when every client gets its own.
pub async fn load(profile: Option<&str>, with_credentials: bool) -> SdkConfig {
    let retry = RetryConfig::standard()
        .with_max_attempts(MAX_ATTEMPTS)
        .with_initial_backoff(INITIAL_BACKOFF)
        .with_max_backoff(MAX_BACKOFF);
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
        .build();
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(retry)
        .timeout_config(timeouts);
    if let Some(profile) = profile {
        loader = loader.profile_name(profile);
    }
    if !with_credentials {
        loader = loader.no_credentials();
    }
    let config = loader.load().await;
    if config.region().is_some() {
        return config;
    }
    config
        .into_builder()
        .region(Region::new(DEFAULT_REGION))
        .build()
}
