//! Routing: the AWS operations, the browser device page and the
//! `/_keyless/` control endpoints. Handlers parse, then call one function
//! of `oidc` or `portal` under the state lock.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Query, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::authorize;
use super::config::{Approval, ConfigPatch, EmulatorConfig};
use super::error::{ApiError, ErrorKind};
use super::issue;
use super::oidc;
use super::portal;
use super::state::{Fault, Inner, Operation, Service, normalize_user_code};
use super::sts;
use crate::secret::Secret;

/// The header carrying the portal access token. Note the underscore.
pub const BEARER_HEADER: &str = "x-amz-sso_bearer_token";

pub struct Shared {
    inner: Mutex<Inner>,
    base_url: String,
    /// With `--sts-endpoint`: where role credentials are minted.
    sts: Option<aws_sdk_sts::Client>,
}

impl Shared {
    pub fn new(config: EmulatorConfig, base_url: String) -> Self {
        let sts = config.sts_endpoint.as_deref().map(sts::client);
        Shared {
            inner: Mutex::new(Inner::new(config)),
            base_url,
            sts,
        }
    }

    /// The state. A handler that panicked cannot leave it half-changed in a
    /// way that matters to an emulator, so a poisoned lock is still used.
    pub fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

type App = Arc<Shared>;

pub fn router(shared: App) -> Router {
    Router::new()
        .route("/client/register", post(register_client))
        .route("/device_authorization", post(start_device_authorization))
        .route("/token", post(create_token))
        .route("/federation/credentials", get(get_role_credentials))
        .route("/assignment/accounts", get(list_accounts))
        .route("/assignment/roles", get(list_account_roles))
        .route("/logout", post(logout))
        .route("/", get(index_page))
        .route("/device", get(device_page))
        .route("/authorize", get(authorize_page))
        .route("/_keyless/stats", get(control_stats))
        .route("/_keyless/reset", post(control_reset))
        .route(
            "/_keyless/faults",
            get(control_faults)
                .post(control_add_faults)
                .delete(control_clear_faults),
        )
        .route(
            "/_keyless/config",
            get(control_config).post(control_patch_config),
        )
        .route("/_keyless/clock", post(control_clock))
        .route("/_keyless/approve", post(control_approve))
        .route("/_keyless/deny", post(control_deny))
        .fallback(unknown_operation)
        .with_state(shared)
}

/// A successful answer body.
enum Reply {
    Json(Vec<u8>),
    Empty,
}

fn json<T: Serialize>(value: &T) -> Result<Reply, ApiError> {
    serde_json::to_vec(value)
        .map(Reply::Json)
        .map_err(|_| ApiError::of(ErrorKind::InternalServer))
}

fn parse_body<T: DeserializeOwned>(body: Result<Bytes, BytesRejection>) -> Result<T, ApiError> {
    let body = body.map_err(|e| ApiError::invalid_request(format!("unreadable body: {e}")))?;
    // The position only: serde's message can quote the value, which may be
    // a secret sent in the wrong field.
    serde_json::from_slice(&body).map_err(|e| {
        ApiError::invalid_request(format!(
            "request body is not the expected JSON (line {}, column {})",
            e.line(),
            e.column()
        ))
    })
}

fn parse_query(
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<portal::Query, ApiError> {
    query
        .map(|Query(q)| q)
        .map_err(|_| ApiError::invalid_request("invalid query string"))
}

fn bearer(headers: &HeaderMap) -> Option<Secret<String>> {
    headers
        .get(BEARER_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(|v| Secret::new(v.to_string()))
}

/// Runs one AWS operation: applies injected faults, runs `handler` under the
/// lock, records the outcome and renders it as the service would.
async fn call(
    app: &App,
    operation: Operation,
    grant_type: Option<&str>,
    handler: impl FnOnce(&mut Inner) -> Result<Reply, ApiError>,
) -> Response {
    let forced = faults(app, operation, grant_type).await;
    let result = {
        let mut inner = app.lock();
        let result = match forced {
            Some(kind) => Err(ApiError::of(kind)),
            None => handler(&mut inner),
        };
        inner.record(operation, result.as_ref().map(|_| ()));
        result
    };
    render(operation, result)
}

/// Applies the injected faults of one call: waits out a latency fault and
/// returns the error a fault forces, if any.
async fn faults(app: &App, operation: Operation, grant_type: Option<&str>) -> Option<ErrorKind> {
    let (latency, forced) = app.lock().take_faults(operation, grant_type);
    if let Some(millis) = latency {
        tokio::time::sleep(Duration::from_millis(millis)).await;
    }
    forced
}

/// The answer as the service would render it.
fn render(operation: Operation, result: Result<Reply, ApiError>) -> Response {
    let request_id = issue::request_id();
    match result {
        Ok(reply) => {
            tracing::info!(?operation, "ok");
            let mut response = match reply {
                Reply::Json(body) => {
                    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
                }
                Reply::Empty => StatusCode::OK.into_response(),
            };
            if let Ok(value) = HeaderValue::from_str(&request_id) {
                response.headers_mut().insert("x-amzn-RequestId", value);
            }
            response
        }
        Err(error) => {
            tracing::info!(?operation, error = error.kind.name(), "error");
            error.into_response_for(operation.service(), &request_id)
        }
    }
}

async fn register_client(State(app): State<App>, body: Result<Bytes, BytesRejection>) -> Response {
    let request = parse_body(body);
    call(&app, Operation::RegisterClient, None, |inner| {
        json(&oidc::register_client(inner, request?)?)
    })
    .await
}

async fn start_device_authorization(
    State(app): State<App>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let request = parse_body(body);
    let base_url = app.base_url.clone();
    call(&app, Operation::StartDeviceAuthorization, None, |inner| {
        json(&oidc::start_device_authorization(
            inner, request?, &base_url,
        )?)
    })
    .await
}

async fn create_token(
    State(app): State<App>,
    RawQuery(query): RawQuery,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let request = parse_body::<oidc::CreateTokenRequest>(body);
    let grant_type = request.as_ref().ok().and_then(|r| r.grant_type.clone());
    let with_iam = query.is_some_and(|q| q.split('&').any(|p| p.starts_with("aws_iam")));
    call(
        &app,
        Operation::CreateToken,
        grant_type.as_deref(),
        |inner| {
            if with_iam {
                return Err(ApiError::invalid_request(
                    "CreateTokenWithIAM is not supported by this emulator",
                ));
            }
            json(&oidc::create_token(inner, request?)?)
        },
    )
    .await
}

async fn get_role_credentials(
    State(app): State<App>,
    headers: HeaderMap,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Response {
    let query = parse_query(query);
    let Some(sts) = app.sts.clone() else {
        return call(&app, Operation::GetRoleCredentials, None, |inner| {
            json(&portal::get_role_credentials(
                inner,
                bearer(&headers),
                &query?,
            )?)
        })
        .await;
    };
    // Checked here under the lock; minted by STS outside it.
    let operation = Operation::GetRoleCredentials;
    let checked = match faults(&app, operation, None).await {
        Some(kind) => Err(ApiError::of(kind)),
        None => {
            let inner = app.lock();
            query
                .and_then(|q| portal::authorize_role(&inner, bearer(&headers), &q))
                .map(|(account, role)| (account, role, inner.config.role_credential_ttl_secs))
        }
    };
    let result = match checked {
        Ok((account, role, ttl)) => sts::assume(&sts, &account, &role, ttl)
            .await
            .and_then(|r| json(&r)),
        Err(e) => Err(e),
    };
    app.lock().record(operation, result.as_ref().map(|_| ()));
    render(operation, result)
}

async fn list_accounts(
    State(app): State<App>,
    headers: HeaderMap,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Response {
    let query = parse_query(query);
    call(&app, Operation::ListAccounts, None, |inner| {
        json(&portal::list_accounts(inner, bearer(&headers), &query?)?)
    })
    .await
}

async fn list_account_roles(
    State(app): State<App>,
    headers: HeaderMap,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Response {
    let query = parse_query(query);
    call(&app, Operation::ListAccountRoles, None, |inner| {
        json(&portal::list_account_roles(
            inner,
            bearer(&headers),
            &query?,
        )?)
    })
    .await
}

async fn logout(State(app): State<App>, headers: HeaderMap) -> Response {
    call(&app, Operation::Logout, None, |inner| {
        portal::logout(inner, bearer(&headers)).map(|()| Reply::Empty)
    })
    .await
}

async fn unknown_operation() -> Response {
    ApiError::new(
        ErrorKind::UnknownOperation,
        "This emulator serves no operation at this path",
    )
    .into_response_for(Service::Portal, &issue::request_id())
}

// ---------------------------------------------------------------------------
// Browser pages

const PAGE_STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:40em;margin:3em auto;\
padding:0 1em;line-height:1.5}code{font-size:1.4em;letter-spacing:.1em}";

fn page(title: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>{title}</title><style>{PAGE_STYLE}</style></head><body>\
         <h1>{title}</h1>{body}<p><small>keyless dev-server: a local IAM Identity Center \
         emulator. Its tokens and credentials work nowhere but here.</small></p></body></html>"
    ))
}

fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

async fn index_page(State(app): State<App>) -> Html<String> {
    let url = html_escape(&app.base_url);
    page(
        "keyless dev-server",
        &format!(
            "<p>Serving SSO OIDC and the SSO portal API at <code>{url}</code>.</p>\
             <p>Approve a device code at <a href=\"/device\">/device</a>; \
             statistics at <a href=\"/_keyless/stats\">/_keyless/stats</a>.</p>"
        ),
    )
}

/// The `verificationUri`: visiting it with a user code approves the code
/// (or denies it with `action=deny`, or when the emulator denies all).
async fn device_page(
    State(app): State<App>,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Response {
    let query = query.map(|Query(q)| q).unwrap_or_default();
    let Some(raw_code) = query.get("user_code").filter(|c| !c.is_empty()) else {
        return page(
            "Authorize a device",
            "<form method=\"get\" action=\"/device\"><label>User code \
             <input name=\"user_code\" autofocus autocomplete=\"off\"></label> \
             <button>Approve</button></form>",
        )
        .into_response();
    };
    let code = normalize_user_code(raw_code);
    let shown = html_escape(&code);
    let mut inner = app.lock();
    let approve = query.get("action").map(String::as_str) != Some("deny")
        && inner.config.approval != Approval::Deny;
    if !inner.decide_user_code(&code, approve) {
        let body = format!(
            "<p>No pending sign-in has the code <code>{shown}</code>. It may have expired or \
             been used already; start the login again.</p>"
        );
        return (StatusCode::NOT_FOUND, page("Unknown code", &body)).into_response();
    }
    drop(inner);
    if approve {
        page(
            "Request approved",
            &format!(
                "<p>The sign-in with code <code>{shown}</code> is approved. You can close \
                 this window and return to the terminal.</p>"
            ),
        )
        .into_response()
    } else {
        page(
            "Request denied",
            &format!("<p>The sign-in with code <code>{shown}</code> was denied.</p>"),
        )
        .into_response()
    }
}

/// The PKCE authorize endpoint: redirects the browser back to the client's
/// loopback listener with a code, or asks first in manual approval mode.
async fn authorize_page(
    State(app): State<App>,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Response {
    let query = query.map(|Query(q)| q).unwrap_or_default();
    let outcome = authorize::authorize(&mut app.lock(), &query);
    match outcome {
        authorize::Outcome::Redirect(target) => match HeaderValue::from_str(&target) {
            Ok(location) => (StatusCode::FOUND, [(header::LOCATION, location)]).into_response(),
            Err(_) => (
                StatusCode::BAD_REQUEST,
                page("Sign-in refused", "<p>The redirect URI is not usable.</p>"),
            )
                .into_response(),
        },
        authorize::Outcome::Ask {
            approve_url,
            deny_url,
        } => page(
            "Allow access?",
            &format!(
                "<p>An application asks to sign in to this emulator.</p>\
                 <p><a href=\"{}\">Allow</a> &nbsp; <a href=\"{}\">Deny</a></p>",
                html_escape(&approve_url),
                html_escape(&deny_url)
            ),
        )
        .into_response(),
        authorize::Outcome::Refuse(reason) => (
            StatusCode::BAD_REQUEST,
            page(
                "Sign-in refused",
                &format!("<p>{}</p>", html_escape(&reason)),
            ),
        )
            .into_response(),
    }
}

// ---------------------------------------------------------------------------
// Control endpoints

fn control_error(message: impl Into<String>) -> Response {
    (
        StatusCode::BAD_REQUEST,
        axum::Json(serde_json::json!({ "message": message.into() })),
    )
        .into_response()
}

fn control_body<T: DeserializeOwned>(body: &Bytes) -> Result<T, String> {
    serde_json::from_slice(body).map_err(|e| format!("invalid JSON: {e}"))
}

async fn control_stats(State(app): State<App>) -> Response {
    axum::Json(app.lock().stats()).into_response()
}

async fn control_reset(State(app): State<App>) -> Response {
    app.lock().reset();
    axum::Json(serde_json::json!({})).into_response()
}

async fn control_faults(State(app): State<App>) -> Response {
    axum::Json(app.lock().faults().to_vec()).into_response()
}

async fn control_add_faults(State(app): State<App>, body: Bytes) -> Response {
    let value: serde_json::Value = match control_body(&body) {
        Ok(value) => value,
        Err(message) => return control_error(message),
    };
    let faults: Result<Vec<Fault>, _> = if value.is_array() {
        serde_json::from_value(value)
    } else {
        serde_json::from_value(value).map(|f| vec![f])
    };
    let faults = match faults {
        Ok(faults) => faults,
        Err(e) => return control_error(format!("invalid fault: {e}")),
    };
    if let Some(message) = faults.iter().find_map(|f| f.validate().err()) {
        return control_error(message);
    }
    let mut inner = app.lock();
    for fault in faults {
        // Validated above, so this cannot fail.
        let _ = inner.add_fault(fault);
    }
    axum::Json(inner.faults().to_vec()).into_response()
}

async fn control_clear_faults(State(app): State<App>) -> Response {
    app.lock().clear_faults();
    axum::Json(serde_json::json!([])).into_response()
}

pub fn config_view(config: &EmulatorConfig) -> serde_json::Value {
    let mut view = serde_json::to_value(config).unwrap_or_default();
    if let Some(map) = view.as_object_mut() {
        map.insert("accountCount".into(), config.accounts.len().into());
    }
    view
}

async fn control_config(State(app): State<App>) -> Response {
    axum::Json(config_view(&app.lock().config)).into_response()
}

async fn control_patch_config(State(app): State<App>, body: Bytes) -> Response {
    let patch: ConfigPatch = match control_body(&body) {
        Ok(patch) => patch,
        Err(message) => return control_error(message),
    };
    let mut inner = app.lock();
    let mut config = inner.config.clone();
    if let Err(message) = config.apply(patch) {
        return control_error(message);
    }
    inner.set_config(config);
    axum::Json(config_view(&inner.config)).into_response()
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ClockRequest {
    advance_secs: i64,
}

async fn control_clock(State(app): State<App>, body: Bytes) -> Response {
    let request: ClockRequest = match control_body(&body) {
        Ok(request) => request,
        Err(message) => return control_error(message),
    };
    let now_ms = app.lock().advance_clock(request.advance_secs);
    axum::Json(serde_json::json!({ "nowMs": now_ms })).into_response()
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct UserCodeRequest {
    user_code: String,
}

async fn decide(app: &App, body: &Bytes, approve: bool) -> Response {
    let request: UserCodeRequest = match control_body(body) {
        Ok(request) => request,
        Err(message) => return control_error(message),
    };
    if app.lock().decide_user_code(&request.user_code, approve) {
        axum::Json(serde_json::json!({})).into_response()
    } else {
        (
            StatusCode::NOT_FOUND,
            axum::Json(serde_json::json!({
                "message": "no pending device authorization has this user code",
            })),
        )
            .into_response()
    }
}

async fn control_approve(State(app): State<App>, body: Bytes) -> Response {
    decide(&app, &body, true).await
}

async fn control_deny(State(app): State<App>, body: Bytes) -> Response {
    decide(&app, &body, false).await
}
