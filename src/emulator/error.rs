//! Service errors as AWS sends them: the exception name in
//! `x-amzn-ErrorType` (the only place both SDKs read it from on OIDC), an
//! OAuth `error`/`error_description` body for SSO OIDC, and a
//! `message`/`__type` body for the portal.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::state::Service;

const OIDC_ERROR_NAMESPACE: &str = "http://internal.amazon.com/coral/com.amazonaws.sso.oidc/";
const PORTAL_ERROR_NAMESPACE: &str = "com.amazonaws.switchboard.portal";

/// Every exception the emulator can answer with, named as on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ErrorKind {
    #[serde(rename = "AuthorizationPendingException")]
    AuthorizationPending,
    #[serde(rename = "SlowDownException")]
    SlowDown,
    #[serde(rename = "ExpiredTokenException")]
    ExpiredToken,
    #[serde(rename = "AccessDeniedException")]
    AccessDenied,
    #[serde(rename = "InvalidGrantException")]
    InvalidGrant,
    #[serde(rename = "InvalidClientException")]
    InvalidClient,
    #[serde(rename = "UnauthorizedClientException")]
    UnauthorizedClient,
    #[serde(rename = "UnsupportedGrantTypeException")]
    UnsupportedGrantType,
    #[serde(rename = "InvalidRequestException")]
    InvalidRequest,
    #[serde(rename = "InvalidScopeException")]
    InvalidScope,
    #[serde(rename = "InvalidClientMetadataException")]
    InvalidClientMetadata,
    #[serde(rename = "InvalidRedirectUriException")]
    InvalidRedirectUri,
    #[serde(rename = "InternalServerException")]
    InternalServer,
    #[serde(rename = "TooManyRequestsException")]
    TooManyRequests,
    #[serde(rename = "UnauthorizedException")]
    Unauthorized,
    #[serde(rename = "ForbiddenException")]
    Forbidden,
    #[serde(rename = "ResourceNotFoundException")]
    ResourceNotFound,
    #[serde(rename = "UnknownOperationException")]
    UnknownOperation,
}

impl ErrorKind {
    /// The exception name, as in `x-amzn-ErrorType`.
    pub fn name(self) -> &'static str {
        use ErrorKind::*;
        match self {
            AuthorizationPending => "AuthorizationPendingException",
            SlowDown => "SlowDownException",
            ExpiredToken => "ExpiredTokenException",
            AccessDenied => "AccessDeniedException",
            InvalidGrant => "InvalidGrantException",
            InvalidClient => "InvalidClientException",
            UnauthorizedClient => "UnauthorizedClientException",
            UnsupportedGrantType => "UnsupportedGrantTypeException",
            InvalidRequest => "InvalidRequestException",
            InvalidScope => "InvalidScopeException",
            InvalidClientMetadata => "InvalidClientMetadataException",
            InvalidRedirectUri => "InvalidRedirectUriException",
            InternalServer => "InternalServerException",
            TooManyRequests => "TooManyRequestsException",
            Unauthorized => "UnauthorizedException",
            Forbidden => "ForbiddenException",
            ResourceNotFound => "ResourceNotFoundException",
            UnknownOperation => "UnknownOperationException",
        }
    }

    pub fn status(self) -> StatusCode {
        use ErrorKind::*;
        match self {
            InvalidClient | Unauthorized => StatusCode::UNAUTHORIZED,
            Forbidden => StatusCode::FORBIDDEN,
            ResourceNotFound | UnknownOperation => StatusCode::NOT_FOUND,
            TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            InternalServer => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// The OAuth error code (RFC 6749 / RFC 8628) in an OIDC error body.
    fn oauth_code(self) -> &'static str {
        use ErrorKind::*;
        match self {
            AuthorizationPending => "authorization_pending",
            SlowDown => "slow_down",
            ExpiredToken => "expired_token",
            AccessDenied => "access_denied",
            InvalidGrant => "invalid_grant",
            InvalidClient => "invalid_client",
            UnauthorizedClient => "unauthorized_client",
            UnsupportedGrantType => "unsupported_grant_type",
            InvalidScope => "invalid_scope",
            InvalidClientMetadata => "invalid_client_metadata",
            InvalidRedirectUri => "invalid_redirect_uri",
            InternalServer => "server_error",
            TooManyRequests => "too_many_requests",
            InvalidRequest | Unauthorized | Forbidden | ResourceNotFound | UnknownOperation => {
                "invalid_request"
            }
        }
    }

    fn default_message(self) -> &'static str {
        use ErrorKind::*;
        match self {
            AuthorizationPending => "Authorization is still pending",
            SlowDown => "Client is polling too quickly",
            ExpiredToken => "Device code has expired",
            AccessDenied => "Access denied by the user",
            InvalidGrant => "Invalid grant provided",
            InvalidClient => "Invalid client provided",
            UnauthorizedClient => "Client is not authorized for this grant type",
            UnsupportedGrantType => "Unsupported grant type",
            InvalidRequest => "Invalid request",
            InvalidScope => "Invalid scope provided",
            InvalidClientMetadata => "Invalid client metadata",
            InvalidRedirectUri => "Invalid redirect URI",
            InternalServer => "Internal server error",
            TooManyRequests => "Too many requests",
            Unauthorized => "Session token not found or invalid",
            Forbidden => "No access",
            ResourceNotFound => "Resource not found",
            UnknownOperation => "Unknown operation",
        }
    }
}

/// One error answer. The message never contains a secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    pub kind: ErrorKind,
    pub message: String,
}

impl ApiError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        ApiError {
            kind,
            message: message.into(),
        }
    }

    /// The error with the message AWS typically sends for it.
    pub fn of(kind: ErrorKind) -> Self {
        ApiError::new(kind, kind.default_message())
    }

    pub fn invalid_request(message: impl Into<String>) -> Self {
        ApiError::new(ErrorKind::InvalidRequest, message)
    }

    /// The response the given service sends for this error.
    pub fn into_response_for(self, service: Service, request_id: &str) -> Response {
        let kind = self.kind;
        let (error_type, body) = match service {
            Service::Oidc => (
                format!("{}:{OIDC_ERROR_NAMESPACE}", kind.name()),
                serde_json::json!({
                    "error": kind.oauth_code(),
                    "error_description": self.message,
                }),
            ),
            Service::Portal => (
                kind.name().to_string(),
                serde_json::json!({
                    "message": self.message,
                    "__type": format!("{PORTAL_ERROR_NAMESPACE}#{}", kind.name()),
                }),
            ),
        };
        let mut response = (kind.status(), axum::Json(body)).into_response();
        let headers = response.headers_mut();
        if let Ok(value) = HeaderValue::from_str(&error_type) {
            headers.insert("x-amzn-ErrorType", value);
        }
        if let Ok(value) = HeaderValue::from_str(request_id) {
            headers.insert("x-amzn-RequestId", value);
        }
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_serde() {
        for kind in [
            ErrorKind::AuthorizationPending,
            ErrorKind::InvalidGrant,
            ErrorKind::TooManyRequests,
            ErrorKind::Forbidden,
        ] {
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.name()));
            assert_eq!(serde_json::from_str::<ErrorKind>(&json).unwrap(), kind);
        }
    }

    #[test]
    fn statuses_follow_the_service_models() {
        assert_eq!(ErrorKind::InvalidClient.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(ErrorKind::Unauthorized.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(ErrorKind::SlowDown.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            ErrorKind::TooManyRequests.status(),
            StatusCode::TOO_MANY_REQUESTS
        );
        assert_eq!(ErrorKind::ResourceNotFound.status(), StatusCode::NOT_FOUND);
    }
}
