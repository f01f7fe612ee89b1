//! The server's clock: one `HEAD` request to an OIDC endpoint, read from
//! its `Date` header, under a hard timeout. Over the same TLS stack (rustls
//! with the platform's roots) as the SDK clients.

use std::time::{Duration, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::Empty;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

/// The whole request, connect and TLS included.
pub const CLOCK_CHECK_TIMEOUT: Duration = Duration::from_secs(5);

/// The server's time (epoch seconds) from the `Date` header of a `HEAD
/// url`; `Err` says why not, for the "skipped" note.
pub async fn server_time(url: &str, timeout: Duration) -> Result<i64, String> {
    let uri: http::Uri = url.parse().map_err(|e| format!("not a URL: {e}"))?;
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_native_roots(rustls::crypto::aws_lc_rs::default_provider())
        .map_err(|e| format!("no TLS root certificates: {e}"))?
        .https_or_http()
        .enable_http1()
        .build();
    let client: Client<_, Empty<Bytes>> = Client::builder(TokioExecutor::new()).build(https);
    let request = http::Request::head(uri)
        .header(
            http::header::USER_AGENT,
            concat!("keyless/", env!("CARGO_PKG_VERSION")),
        )
        .body(Empty::new())
        .map_err(|e| e.to_string())?;
    let response = tokio::time::timeout(timeout, client.request(request))
        .await
        .map_err(|_| format!("no answer within {}s", timeout.as_secs()))?
        .map_err(|e| error_text(&e))?;
    let date = response
        .headers()
        .get(http::header::DATE)
        .ok_or("the answer has no Date header")?
        .to_str()
        .map_err(|_| "the Date header is not text")?;
    let time = httpdate::parse_http_date(date).map_err(|e| format!("bad Date header: {e}"))?;
    let secs = time
        .duration_since(UNIX_EPOCH)
        .map_err(|_| "the Date header is before 1970")?
        .as_secs();
    i64::try_from(secs).map_err(|_| "the Date header is too far ahead".to_owned())
}

/// The error and its causes, on one line.
fn error_text(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
