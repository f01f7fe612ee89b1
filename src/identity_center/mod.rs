//! Clients for IAM Identity Center: SSO OIDC (client registration, device
//! authorization, token creation and refresh) and the SSO portal (role
//! credentials, accounts, roles, logout), over the AWS SDK.
//!
//! Endpoints follow the SDK's own rules, so `AWS_ENDPOINT_URL_SSO`,
//! `AWS_ENDPOINT_URL_SSO_OIDC`, `AWS_ENDPOINT_URL` and profile endpoint
//! settings apply; `keyless demo` passes an explicit endpoint instead.

pub mod device;
pub mod oidc;
pub mod pkce;
pub mod portal;

use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_ssooidc::config::Region;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// 5xx and 429 are retried by the SDK's standard retry strategy with
/// jittered exponential backoff, bounded in attempts and in time.
pub const MAX_ATTEMPTS: u32 = 4;
pub const INITIAL_BACKOFF: Duration = Duration::from_millis(200);
pub const MAX_BACKOFF: Duration = Duration::from_secs(2);
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(20);

/// Both clients for one SSO region.
#[derive(Clone, Debug)]
pub struct Clients {
    pub oidc: aws_sdk_ssooidc::Client,
    pub portal: aws_sdk_sso::Client,
}

impl Clients {
    /// Clients for `region`. With `endpoint`, both services are sent there
    /// (the in-process emulator of `keyless demo`); otherwise the SDK's
    /// endpoint resolution applies, including the environment overrides.
    pub async fn new(region: &str, endpoint: Option<&str>) -> Clients {
        let retry = RetryConfig::standard()
            .with_max_attempts(MAX_ATTEMPTS)
            .with_initial_backoff(INITIAL_BACKOFF)
            .with_max_backoff(MAX_BACKOFF);
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .operation_attempt_timeout(ATTEMPT_TIMEOUT)
            .operation_timeout(OPERATION_TIMEOUT)
            .build();
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(region.to_string()))
            .no_credentials()
            .retry_config(retry)
            .timeout_config(timeouts);
        if let Some(url) = endpoint {
            loader = loader.endpoint_url(url);
        }
        let shared = loader.load().await;
        Clients {
            oidc: aws_sdk_ssooidc::Client::new(&shared),
            portal: aws_sdk_sso::Client::new(&shared),
        }
    }
}

/// What went wrong talking to Identity Center, classified by what the
/// caller should do about it. Server messages are kept (they carry no
/// secret); request contents never are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiErrorKind {
    AuthorizationPending,
    SlowDown,
    ExpiredToken,
    AccessDenied,
    InvalidGrant,
    InvalidClient,
    Unauthorized,
    Forbidden,
    Throttled,
    Server {
        status: u16,
    },
    OtherService {
        code: String,
        status: u16,
    },
    Connect {
        detail: String,
    },
    Timeout,
    Malformed {
        detail: String,
    },
    /// Not an AWS answer at all: a redirect, or a success that is not
    /// JSON (a proxy, a captive portal or a sign-in page answered).
    NotAws {
        status: u16,
        content_type: String,
    },
}

/// Where to look when something other than AWS answers.
pub const PROXY_HINT: &str = "something between keyless and AWS (a proxy, a captive portal, a \
    VPN or Wi-Fi sign-in page) may have answered: check HTTPS_PROXY, HTTP_PROXY and NO_PROXY, \
    and the endpoint settings AWS_ENDPOINT_URL_SSO, AWS_ENDPOINT_URL_SSO_OIDC and \
    AWS_ENDPOINT_URL";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub operation: &'static str,
    pub kind: ApiErrorKind,
    pub message: Option<String>,
}

impl std::error::Error for ApiError {}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let op = self.operation;
        let server = self
            .message
            .as_deref()
            .map(|m| format!(" ({m})"))
            .unwrap_or_default();
        match &self.kind {
            ApiErrorKind::AuthorizationPending => write!(f, "{op}: authorization pending{server}"),
            ApiErrorKind::SlowDown => write!(f, "{op}: polling too fast{server}"),
            ApiErrorKind::ExpiredToken => write!(f, "{op}: the authorization expired{server}"),
            ApiErrorKind::AccessDenied => write!(f, "{op}: access denied{server}"),
            ApiErrorKind::InvalidGrant => {
                write!(f, "{op}: the refresh token or grant was rejected{server}")
            }
            ApiErrorKind::InvalidClient => {
                write!(f, "{op}: the client registration was rejected{server}")
            }
            ApiErrorKind::Unauthorized => {
                write!(f, "{op}: the access token was rejected{server}")
            }
            ApiErrorKind::Forbidden => write!(f, "{op}: forbidden{server}"),
            ApiErrorKind::Throttled => {
                write!(
                    f,
                    "{op}: IAM Identity Center is throttling requests{server}"
                )
            }
            ApiErrorKind::Server { status } => {
                write!(
                    f,
                    "{op}: IAM Identity Center answered HTTP {status}{server}"
                )
            }
            ApiErrorKind::OtherService { code, status } => {
                write!(f, "{op}: {code} (HTTP {status}){server}")
            }
            ApiErrorKind::Connect { detail } => {
                write!(f, "{op}: could not reach IAM Identity Center: {detail}")
            }
            ApiErrorKind::Timeout => {
                write!(f, "{op}: IAM Identity Center did not answer in time")
            }
            ApiErrorKind::Malformed { detail } => {
                write!(
                    f,
                    "{op}: unexpected answer from IAM Identity Center: {detail}"
                )
            }
            ApiErrorKind::NotAws {
                status,
                content_type,
            } => write!(
                f,
                "{op}: the answer was HTTP {status} ({content_type}), not an IAM Identity Center \
                 answer"
            ),
        }
    }
}

impl ApiError {
    /// The next step, for the `hint:` line.
    pub fn hint(&self) -> Option<String> {
        Some(match &self.kind {
            ApiErrorKind::Forbidden => {
                "the account or role may no longer be assigned to you: check the AWS access \
                 portal, or ask your administrator"
                    .into()
            }
            ApiErrorKind::Throttled => "wait a minute and try again".into(),
            ApiErrorKind::Server { .. } => "try again in a moment".into(),
            ApiErrorKind::Connect { .. } => {
                "check the network connection, the proxy settings and the sso_region".into()
            }
            ApiErrorKind::Timeout => "check the network connection and try again".into(),
            ApiErrorKind::Malformed { .. } => format!("if this goes on, {PROXY_HINT}"),
            ApiErrorKind::NotAws { .. } => PROXY_HINT.into(),
            _ => return None,
        })
    }
}

impl ApiError {
    pub fn is(&self, kind: &ApiErrorKind) -> bool {
        &self.kind == kind
    }

    pub(crate) fn malformed(operation: &'static str, detail: &str) -> ApiError {
        ApiError {
            operation,
            kind: ApiErrorKind::Malformed {
                detail: detail.to_string(),
            },
            message: None,
        }
    }

    /// Classifies an SDK error by its error code (from `x-amzn-ErrorType`,
    /// body `code` or `__type`) and HTTP status.
    pub(crate) fn from_sdk<E>(operation: &'static str, err: SdkError<E, HttpResponse>) -> ApiError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let (kind, message) = match &err {
            SdkError::ServiceError(service) => {
                let status = service.raw().status().as_u16();
                let code = service.err().code().unwrap_or_default().to_string();
                if code.is_empty() && status < 400 {
                    (not_aws(service.raw()), None)
                } else {
                    let message = service.err().message().map(str::to_string);
                    (kind_for(&code, status), message)
                }
            }
            SdkError::ResponseError(response) if !is_json(response.raw()) => {
                (not_aws(response.raw()), None)
            }
            SdkError::TimeoutError(_) => (ApiErrorKind::Timeout, None),
            SdkError::DispatchFailure(failure) if failure.is_timeout() => {
                (ApiErrorKind::Timeout, None)
            }
            SdkError::DispatchFailure(_) => (
                ApiErrorKind::Connect {
                    detail: root_cause(&err),
                },
                None,
            ),
            _ => (
                ApiErrorKind::Malformed {
                    detail: root_cause(&err),
                },
                None,
            ),
        };
        ApiError {
            operation,
            kind,
            message,
        }
    }
}

fn content_type(response: &HttpResponse) -> String {
    response
        .headers()
        .get("content-type")
        .map(|t| t.split(';').next().unwrap_or(t).trim().to_string())
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| "no content type".to_string())
}

fn is_json(response: &HttpResponse) -> bool {
    content_type(response).contains("json")
}

fn not_aws(response: &HttpResponse) -> ApiErrorKind {
    ApiErrorKind::NotAws {
        status: response.status().as_u16(),
        content_type: content_type(response),
    }
}

fn kind_for(code: &str, status: u16) -> ApiErrorKind {
    match code {
        "AuthorizationPendingException" => ApiErrorKind::AuthorizationPending,
        "SlowDownException" => ApiErrorKind::SlowDown,
        "ExpiredTokenException" => ApiErrorKind::ExpiredToken,
        "AccessDeniedException" => ApiErrorKind::AccessDenied,
        "InvalidGrantException" => ApiErrorKind::InvalidGrant,
        "InvalidClientException" => ApiErrorKind::InvalidClient,
        "UnauthorizedException" => ApiErrorKind::Unauthorized,
        "ForbiddenException" => ApiErrorKind::Forbidden,
        "TooManyRequestsException" | "ThrottlingException" => ApiErrorKind::Throttled,
        _ if status == 401 => ApiErrorKind::Unauthorized,
        _ if status == 403 => ApiErrorKind::Forbidden,
        _ if status == 429 => ApiErrorKind::Throttled,
        _ if status >= 500 => ApiErrorKind::Server { status },
        _ => ApiErrorKind::OtherService {
            code: if code.is_empty() {
                "error".into()
            } else {
                code.to_string()
            },
            status,
        },
    }
}

fn root_cause(err: &dyn std::error::Error) -> String {
    let mut current: &dyn std::error::Error = err;
    let mut text = current.to_string();
    while let Some(source) = current.source() {
        current = source;
        text = current.to_string();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_statuses_map_to_kinds() {
        assert_eq!(kind_for("SlowDownException", 400), ApiErrorKind::SlowDown);
        assert_eq!(
            kind_for("InvalidClientException", 401),
            ApiErrorKind::InvalidClient
        );
        assert_eq!(kind_for("", 401), ApiErrorKind::Unauthorized);
        assert_eq!(
            kind_for("TooManyRequestsException", 429),
            ApiErrorKind::Throttled
        );
        assert_eq!(
            kind_for("InternalServerException", 500),
            ApiErrorKind::Server { status: 500 }
        );
        assert_eq!(
            kind_for("InvalidRequestException", 400),
            ApiErrorKind::OtherService {
                code: "InvalidRequestException".into(),
                status: 400
            }
        );
    }
}
