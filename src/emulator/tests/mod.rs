//! Tests against a running emulator: through the real AWS SDK clients
//! (`sdk`), as raw HTTP where the SDK hides the wire (`wire`), and through
//! clients built from the environment (`env_routing`).

mod env_routing;
mod sdk;
mod wire;

use std::net::SocketAddr;
use std::time::Duration;

use aws_sdk_ssooidc::config::Region;
use aws_smithy_types::retry::RetryConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{EmulatorConfig, RunningEmulator, start};

pub const START_URL: &str = "https://d-1234567890.awsapps.com/start";
pub const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

pub async fn emulator(config: EmulatorConfig) -> RunningEmulator {
    start(config, 0).await.expect("the emulator starts")
}

/// Retries disabled unless `retry` is given, so 429 and 500 surface.
pub fn oidc_client(url: &str, retry: Option<RetryConfig>) -> aws_sdk_ssooidc::Client {
    let config = aws_sdk_ssooidc::Config::builder()
        .behavior_version_latest()
        .region(Region::new("us-east-1"))
        .endpoint_url(url)
        .retry_config(retry.unwrap_or_else(RetryConfig::disabled))
        .build();
    aws_sdk_ssooidc::Client::from_conf(config)
}

pub fn sso_client(url: &str, retry: Option<RetryConfig>) -> aws_sdk_sso::Client {
    let config = aws_sdk_sso::Config::builder()
        .behavior_version_latest()
        .region(aws_sdk_sso::config::Region::new("us-east-1"))
        .endpoint_url(url)
        .retry_config(retry.unwrap_or_else(RetryConfig::disabled))
        .build();
    aws_sdk_sso::Client::from_conf(config)
}

pub struct Registration {
    pub client_id: String,
    pub client_secret: String,
}

pub async fn register(oidc: &aws_sdk_ssooidc::Client) -> Registration {
    let out = oidc
        .register_client()
        .client_name("keyless-test")
        .client_type("public")
        .scopes("sso:account:access")
        .send()
        .await
        .expect("RegisterClient succeeds");
    Registration {
        client_id: out.client_id().expect("clientId").to_string(),
        client_secret: out.client_secret().expect("clientSecret").to_string(),
    }
}

pub async fn start_device(oidc: &aws_sdk_ssooidc::Client, reg: &Registration) -> String {
    oidc.start_device_authorization()
        .client_id(&reg.client_id)
        .client_secret(&reg.client_secret)
        .start_url(START_URL)
        .send()
        .await
        .expect("StartDeviceAuthorization succeeds")
        .device_code()
        .expect("deviceCode")
        .to_string()
}

pub async fn poll(
    oidc: &aws_sdk_ssooidc::Client,
    reg: &Registration,
    device_code: &str,
) -> Result<
    aws_sdk_ssooidc::operation::create_token::CreateTokenOutput,
    aws_sdk_ssooidc::operation::create_token::CreateTokenError,
> {
    oidc.create_token()
        .client_id(&reg.client_id)
        .client_secret(&reg.client_secret)
        .grant_type(DEVICE_GRANT)
        .device_code(device_code)
        .send()
        .await
        .map_err(|e| e.into_service_error())
}

pub struct Login {
    pub reg: Registration,
    pub access_token: String,
    pub refresh_token: Option<String>,
}

/// A device login against an emulator that approves on the first poll.
pub async fn login(oidc: &aws_sdk_ssooidc::Client) -> Login {
    let reg = register(oidc).await;
    let device_code = start_device(oidc, &reg).await;
    let token = poll(oidc, &reg, &device_code)
        .await
        .expect("the first poll is approved");
    Login {
        reg,
        access_token: token.access_token().expect("accessToken").to_string(),
        refresh_token: token.refresh_token().map(str::to_string),
    }
}

pub fn approve_at_once() -> EmulatorConfig {
    EmulatorConfig {
        approval: super::Approval::Auto { after_polls: 0 },
        ..EmulatorConfig::default()
    }
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// A raw HTTP/1.1 exchange, for what the SDK hides.
pub struct RawResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RawResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

pub async fn raw(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> RawResponse {
    tokio::time::timeout(
        Duration::from_secs(20),
        raw_exchange(addr, method, target, headers, body),
    )
    .await
    .expect("the emulator answers within 20 s")
}

async fn raw_exchange(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> RawResponse {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let mut request = format!(
        "{method} {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    let mut bytes = request.into_bytes();
    bytes.extend_from_slice(body);
    stream.write_all(&bytes).await.expect("write request");
    let mut response = Vec::new();
    stream
        .read_to_end(&mut response)
        .await
        .expect("read response");
    parse_response(&response)
}

fn parse_response(response: &[u8]) -> RawResponse {
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete response head");
    let head = String::from_utf8_lossy(&response[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status code");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    let mut body = response[split + 4..].to_vec();
    let chunked = headers.iter().any(|(n, v)| {
        n.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    if chunked {
        body = dechunk(&body);
    }
    RawResponse {
        status,
        headers,
        body,
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(end) = data.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(String::from_utf8_lossy(&data[..end]).trim(), 16)
            .expect("chunk size");
        if size == 0 {
            break;
        }
        let start = end + 2;
        out.extend_from_slice(&data[start..start + size]);
        data = &data[start + size + 2..];
    }
    out
}

pub async fn post_json(addr: SocketAddr, path: &str, body: &serde_json::Value) -> RawResponse {
    let bytes = serde_json::to_vec(body).expect("serializable");
    raw(
        addr,
        "POST",
        path,
        &[("Content-Type", "application/json")],
        &bytes,
    )
    .await
}

pub async fn get_with_token(addr: SocketAddr, target: &str, token: &str) -> RawResponse {
    raw(
        addr,
        "GET",
        target,
        &[("x-amz-sso_bearer_token", token)],
        b"",
    )
    .await
}
