//! Wire details the SDK hides: units, header names, error shapes, the last
//! page, malformed input, the device page and the control endpoints.

use std::net::SocketAddr;

use proptest::prelude::*;
use serde_json::{Value, json};

use super::super::{Approval, EmulatorConfig, Operation, Stats, generate_accounts};
use super::*;

fn now_s() -> i64 {
    now_ms() / 1000
}

async fn register_raw(addr: SocketAddr, scopes: bool) -> (String, String) {
    let mut body = json!({"clientName": "wire", "clientType": "public"});
    if scopes {
        body["scopes"] = json!(["sso:account:access"]);
    }
    let resp = post_json(addr, "/client/register", &body).await;
    assert_eq!(resp.status, 200, "{}", resp.text());
    let v = resp.json();
    (
        v["clientId"].as_str().unwrap().to_string(),
        v["clientSecret"].as_str().unwrap().to_string(),
    )
}

async fn start_raw(addr: SocketAddr, client_id: &str, client_secret: &str) -> Value {
    let resp = post_json(
        addr,
        "/device_authorization",
        &json!({"clientId": client_id, "clientSecret": client_secret, "startUrl": START_URL}),
    )
    .await;
    assert_eq!(resp.status, 200, "{}", resp.text());
    resp.json()
}

async fn poll_raw(
    addr: SocketAddr,
    client_id: &str,
    client_secret: &str,
    auth: &Value,
) -> RawResponse {
    let body = json!({"clientId": client_id, "clientSecret": client_secret,
                      "grantType": DEVICE_GRANT, "deviceCode": auth["deviceCode"]});
    post_json(addr, "/token", &body).await
}

async fn access_token_raw(addr: SocketAddr) -> String {
    login_raw(addr).await["accessToken"]
        .as_str()
        .expect("an access token")
        .to_string()
}

/// Registers, starts and polls once (approval at once), returning the
/// CreateToken body.
async fn login_raw(addr: SocketAddr) -> Value {
    let (client_id, client_secret) = register_raw(addr, true).await;
    let auth = start_raw(addr, &client_id, &client_secret).await;
    let resp = poll_raw(addr, &client_id, &client_secret, &auth).await;
    assert_eq!(resp.status, 200, "{}", resp.text());
    resp.json()
}

#[tokio::test]
async fn registration_times_are_epoch_seconds() {
    let emu = emulator(EmulatorConfig::default()).await;
    let resp = post_json(
        emu.addr(),
        "/client/register",
        &json!({"clientName": "botocore-client-my-sso", "clientType": "public",
                "scopes": ["sso:account:access"]}),
    )
    .await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("content-type"), Some("application/json"));
    assert!(resp.header("x-amzn-RequestId").is_some());
    let v = resp.json();
    let issued = v["clientIdIssuedAt"].as_i64().expect("an integer");
    let expires = v["clientSecretExpiresAt"].as_i64().expect("an integer");
    assert!((issued - now_s()).abs() < 60, "clientIdIssuedAt {issued}");
    assert_eq!(expires - issued, 90 * 24 * 3600);
    assert!(
        v["clientSecret"]
            .as_str()
            .unwrap()
            .starts_with("eyJraWQiOi")
    );
}

#[tokio::test]
async fn device_authorization_and_token_use_relative_seconds() {
    let emu = emulator(EmulatorConfig {
        device_code_ttl_secs: 321,
        poll_interval_secs: Some(4),
        access_token_ttl_secs: 1234,
        ..approve_at_once()
    })
    .await;
    let addr = emu.addr();
    let (client_id, client_secret) = register_raw(addr, true).await;
    let auth = start_raw(addr, &client_id, &client_secret).await;
    assert_eq!(auth["expiresIn"], 321);
    assert_eq!(auth["interval"], 4);
    let user_code = auth["userCode"].as_str().unwrap();
    assert_eq!(user_code.len(), 9);
    let token = poll_raw(addr, &client_id, &client_secret, &auth)
        .await
        .json();
    assert_eq!(token["expiresIn"], 1234);
    assert_eq!(token["tokenType"], "Bearer");
    assert!(token["accessToken"].as_str().unwrap().starts_with("aoa"));
    assert!(token["refreshToken"].as_str().unwrap().starts_with("aor"));
    assert!(token.get("idToken").is_none());
}

#[tokio::test]
async fn interval_can_be_omitted() {
    let emu = emulator(EmulatorConfig {
        poll_interval_secs: None,
        ..EmulatorConfig::default()
    })
    .await;
    let (client_id, client_secret) = register_raw(emu.addr(), false).await;
    let auth = post_json(
        emu.addr(),
        "/device_authorization",
        &json!({"clientId": client_id, "clientSecret": client_secret, "startUrl": START_URL}),
    )
    .await
    .json();
    assert!(auth.get("interval").is_none(), "{auth}");
    assert_eq!(auth["expiresIn"], 600);
}

#[tokio::test]
async fn oidc_errors_carry_the_exception_in_the_header_and_oauth_codes_in_the_body() {
    let emu = emulator(EmulatorConfig {
        approval: Approval::Manual,
        ..EmulatorConfig::default()
    })
    .await;
    let addr = emu.addr();
    let (client_id, client_secret) = register_raw(addr, true).await;
    let auth = start_raw(addr, &client_id, &client_secret).await;
    let resp = poll_raw(addr, &client_id, &client_secret, &auth).await;
    assert_eq!(resp.status, 400);
    let error_type = resp.header("x-amzn-ErrorType").unwrap();
    assert!(
        error_type.starts_with("AuthorizationPendingException:http://"),
        "{error_type}"
    );
    let body = resp.json();
    assert_eq!(body["error"], "authorization_pending");
    assert_eq!(body["error_description"], "Authorization is still pending");

    let resp = post_json(
        addr,
        "/token",
        &json!({"clientId": client_id, "clientSecret": "wrong",
                "grantType": DEVICE_GRANT, "deviceCode": auth["deviceCode"]}),
    )
    .await;
    assert_eq!(resp.status, 401);
    assert!(
        resp.header("x-amzn-ErrorType")
            .unwrap()
            .starts_with("InvalidClientException:")
    );
    assert_eq!(resp.json()["error"], "invalid_client");
}

#[tokio::test]
async fn portal_errors_have_message_and_type() {
    let emu = emulator(EmulatorConfig::default()).await;
    let resp = get_with_token(emu.addr(), "/assignment/accounts", "aoaNOPE").await;
    assert_eq!(resp.status, 401);
    assert_eq!(
        resp.header("x-amzn-ErrorType"),
        Some("UnauthorizedException")
    );
    let body = resp.json();
    assert_eq!(body["message"], "Session token not found or invalid");
    assert_eq!(
        body["__type"],
        "com.amazonaws.switchboard.portal#UnauthorizedException"
    );
}

#[tokio::test]
async fn bearer_header_must_keep_its_underscore() {
    let emu = emulator(approve_at_once()).await;
    let addr = emu.addr();
    let token = access_token_raw(addr).await;
    let dashed = raw(
        addr,
        "GET",
        "/assignment/accounts",
        &[("x-amz-sso-bearer-token", &token)],
        b"",
    )
    .await;
    assert_eq!(dashed.status, 401);
    let underscored = get_with_token(addr, "/assignment/accounts", &token).await;
    assert_eq!(underscored.status, 200);
    // Header names are case-insensitive.
    let upper = raw(
        addr,
        "GET",
        "/assignment/accounts",
        &[("X-Amz-Sso_Bearer_Token", &token)],
        b"",
    )
    .await;
    assert_eq!(upper.status, 200);
}

#[tokio::test]
async fn pages_use_max_result_and_the_last_page_omits_next_token() {
    let emu = emulator(EmulatorConfig {
        accounts: generate_accounts(250, &["ReadOnly"]),
        ..approve_at_once()
    })
    .await;
    let addr = emu.addr();
    let token = access_token_raw(addr).await;

    let first = get_with_token(addr, "/assignment/accounts?max_result=100", &token)
        .await
        .json();
    assert_eq!(first["accountList"].as_array().unwrap().len(), 100);
    let next = first["nextToken"].as_str().unwrap();
    let second = get_with_token(
        addr,
        &format!("/assignment/accounts?max_result=100&next_token={next}"),
        &token,
    )
    .await
    .json();
    let next = second["nextToken"].as_str().unwrap();
    let last = get_with_token(
        addr,
        &format!("/assignment/accounts?next_token={next}&max_result=100"),
        &token,
    )
    .await
    .json();
    assert_eq!(last["accountList"].as_array().unwrap().len(), 50);
    assert!(
        last.as_object().unwrap().get("nextToken").is_none(),
        "{last}"
    );
    let account = &last["accountList"][0];
    assert_eq!(account["accountName"], "account-0201");
    assert_eq!(account["emailAddress"], "aws+account-0201@example.com");

    // Without max_result: the default page size.
    let default = get_with_token(addr, "/assignment/accounts", &token)
        .await
        .json();
    assert_eq!(default["accountList"].as_array().unwrap().len(), 20);

    // The plural spelling is not the wire name: it is ignored.
    let plural = get_with_token(addr, "/assignment/accounts?max_results=5", &token)
        .await
        .json();
    assert_eq!(plural["accountList"].as_array().unwrap().len(), 20);

    for bad in [
        "max_result=0",
        "max_result=101",
        "max_result=x",
        "next_token=garbage",
    ] {
        let resp = get_with_token(addr, &format!("/assignment/accounts?{bad}"), &token).await;
        assert_eq!(resp.status, 400, "{bad}");
        assert_eq!(
            resp.header("x-amzn-ErrorType"),
            Some("InvalidRequestException")
        );
    }

    // A roles token is not an accounts token.
    let roles = get_with_token(
        addr,
        &format!(
            "/assignment/roles?account_id={}&max_result=1",
            last["accountList"][0]["accountId"].as_str().unwrap()
        ),
        &token,
    )
    .await
    .json();
    assert_eq!(roles["roleList"][0]["roleName"], "ReadOnly");
    assert!(roles.get("nextToken").is_none());
}

#[tokio::test]
async fn role_expiration_is_epoch_ms_and_query_values_are_decoded() {
    let emu = emulator(EmulatorConfig {
        accounts: vec![super::super::Account::new(
            "123456789012",
            "odd",
            &["Read Only", "a+b=c,d.e@f-g"],
        )],
        role_credential_ttl_secs: 900,
        ..approve_at_once()
    })
    .await;
    let addr = emu.addr();
    let token = access_token_raw(addr).await;
    for encoded in ["Read%20Only", "a%2Bb%3Dc%2Cd.e%40f-g"] {
        let resp = get_with_token(
            addr,
            &format!("/federation/credentials?role_name={encoded}&account_id=123456789012"),
            &token,
        )
        .await;
        assert_eq!(resp.status, 200, "{encoded}: {}", resp.text());
        let creds = &resp.json()["roleCredentials"];
        let expiration = creds["expiration"].as_i64().expect("an integer");
        assert!(
            (expiration - (now_ms() + 900_000)).abs() < 60_000,
            "{expiration} is not epoch-ms"
        );
    }
    let missing = get_with_token(
        addr,
        "/federation/credentials?account_id=123456789012",
        &token,
    )
    .await;
    assert_eq!(missing.status, 400);
}

#[tokio::test]
async fn logout_has_empty_bodies_and_ends_the_session() {
    let emu = emulator(approve_at_once()).await;
    let addr = emu.addr();
    let token = access_token_raw(addr).await;
    let resp = raw(
        addr,
        "POST",
        "/logout",
        &[("x-amz-sso_bearer_token", &token)],
        b"",
    )
    .await;
    assert_eq!(resp.status, 200);
    assert!(resp.body.is_empty());
    let again = raw(
        addr,
        "POST",
        "/logout",
        &[("x-amz-sso_bearer_token", &token)],
        b"",
    )
    .await;
    assert_eq!(again.status, 401);
}

#[tokio::test]
async fn malformed_requests_are_invalid_request_not_crashes() {
    let emu = emulator(EmulatorConfig::default()).await;
    let addr = emu.addr();
    for (path, body) in [
        ("/client/register", &b"{not json"[..]),
        ("/client/register", b""),
        ("/client/register", b"[]"),
        ("/client/register", br#"{"clientName": 5}"#),
        ("/client/register", br#"{"clientName": "x"}"#),
        ("/device_authorization", b"null"),
        ("/device_authorization", br#"{"clientId": "x"}"#),
        ("/token", b"\xff\xfe"),
        ("/token", br#"{"grantType": "refresh_token"}"#),
    ] {
        let resp = raw(
            addr,
            "POST",
            path,
            &[("Content-Type", "application/json")],
            body,
        )
        .await;
        assert_eq!(
            resp.status,
            400,
            "{path} {:?}",
            String::from_utf8_lossy(body)
        );
        assert!(
            resp.header("x-amzn-ErrorType")
                .unwrap()
                .starts_with("InvalidRequestException:"),
            "{path}"
        );
        assert_eq!(resp.json()["error"], "invalid_request");
    }
    let resp = post_json(
        addr,
        "/client/register",
        &json!({"clientName": "x", "clientType": "public", "scopes": "SENTINELecho"}),
    )
    .await;
    assert_eq!(resp.status, 400);
    assert!(
        !resp.text().contains("SENTINELecho"),
        "errors never echo a value"
    );
    let resp = post_json(
        addr,
        "/client/register",
        &json!({"clientName": "x", "clientType": "confidential"}),
    )
    .await;
    assert_eq!(
        resp.header("x-amzn-ErrorType").map(|h| h.split(':').next()),
        Some(Some("InvalidClientMetadataException"))
    );
    let resp = post_json(
        addr,
        "/client/register",
        &json!({"clientName": "x", "clientType": "public", "grantTypes": ["password"]}),
    )
    .await;
    assert!(
        resp.header("x-amzn-ErrorType")
            .unwrap()
            .starts_with("UnsupportedGrantTypeException:")
    );
    let resp = post_json(addr, "/token?aws_iam=t", &json!({})).await;
    assert_eq!(resp.status, 400);

    let resp = raw(addr, "GET", "/nothing/here", &[], b"").await;
    assert_eq!(resp.status, 404);
    assert_eq!(
        resp.header("x-amzn-ErrorType"),
        Some("UnknownOperationException")
    );
    // Still serving.
    assert_eq!(
        raw(addr, "GET", "/_keyless/stats", &[], b"").await.status,
        200
    );
}

#[test]
fn arbitrary_bodies_never_crash_the_emulator() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let emu = runtime.block_on(emulator(EmulatorConfig::default()));
    let addr = emu.addr();
    let paths = [
        "/client/register",
        "/device_authorization",
        "/token",
        "/logout",
    ];
    proptest!(ProptestConfig::with_cases(48), |(
        path in 0..paths.len(),
        body in prop::collection::vec(any::<u8>(), 0..200),
        query in "[a-z_=&%0-9]{0,30}",
    )| {
        let target = format!("{}?{query}", paths[path]);
        let resp = runtime.block_on(raw(addr, "POST", &target, &[], &body));
        prop_assert!(matches!(resp.status, 400 | 401), "{} -> {}", target, resp.status);
        let get = runtime.block_on(raw(addr, "GET", &format!("/assignment/roles?{query}"), &[("x-amz-sso_bearer_token", "x")], b""));
        prop_assert!(matches!(get.status, 400 | 401), "roles?{} -> {}", query, get.status);
    });
    runtime.block_on(emu.shutdown()).unwrap();
}

#[tokio::test]
async fn device_page_approves_and_escapes_what_it_shows() {
    let emu = emulator(EmulatorConfig {
        approval: Approval::Manual,
        ..EmulatorConfig::default()
    })
    .await;
    let addr = emu.addr();
    let (client_id, client_secret) = register_raw(addr, true).await;
    let auth = start_raw(addr, &client_id, &client_secret).await;
    let complete = auth["verificationUriComplete"].as_str().unwrap();
    let target = complete.strip_prefix(&emu.url()).unwrap();
    assert_eq!(
        poll_raw(addr, &client_id, &client_secret, &auth)
            .await
            .status,
        400
    );

    let page = raw(addr, "GET", target, &[], b"").await;
    assert_eq!(page.status, 200);
    assert!(
        page.header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    assert!(page.text().contains(auth["userCode"].as_str().unwrap()));
    assert!(page.text().contains("approved"));
    assert_eq!(
        poll_raw(addr, &client_id, &client_secret, &auth)
            .await
            .status,
        200
    );

    let form = raw(addr, "GET", "/device", &[], b"").await;
    assert!(form.text().contains("<form"));
    let hostile = raw(
        addr,
        "GET",
        "/device?user_code=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        &[],
        b"",
    )
    .await;
    assert_eq!(hostile.status, 404);
    assert!(!hostile.text().contains("<script>"));
}

#[tokio::test]
async fn control_endpoints_drive_faults_config_clock_and_reset() {
    let emu = emulator(EmulatorConfig::default()).await;
    let addr = emu.addr();

    let faults = post_json(
        addr,
        "/_keyless/faults",
        &json!([{"operation": "RegisterClient", "kind": "throttle", "count": 2},
                {"operation": "RegisterClient", "kind": "error",
                 "error": "InvalidScopeException"}]),
    )
    .await;
    assert_eq!(faults.status, 200, "{}", faults.text());
    let body = json!({"clientName": "c", "clientType": "public"});
    for expected in [429, 429, 400, 200] {
        let resp = post_json(addr, "/client/register", &body).await;
        assert_eq!(resp.status, expected);
    }
    let bad = post_json(
        addr,
        "/_keyless/faults",
        &json!({"operation": "Nope", "kind": "internal"}),
    )
    .await;
    assert_eq!(bad.status, 400);
    let bad = post_json(
        addr,
        "/_keyless/faults",
        &json!({"operation": "Logout", "kind": "error"}),
    )
    .await;
    assert_eq!(bad.status, 400);
    assert!(bad.json()["message"].as_str().unwrap().contains("error"));

    let stats: Stats =
        serde_json::from_value(raw(addr, "GET", "/_keyless/stats", &[], b"").await.json()).unwrap();
    let register = &stats.operations[&Operation::RegisterClient];
    assert_eq!(register.calls, 4);
    assert_eq!(register.ok, 1);
    assert_eq!(register.errors["TooManyRequestsException"], 2);
    assert_eq!(register.errors["InvalidScopeException"], 1);
    assert_eq!(stats.operations.len(), Operation::ALL.len());
    assert_eq!(stats.registrations, 1);

    let config = post_json(
        addr,
        "/_keyless/config",
        &json!({"approval": {"mode": "auto", "afterPolls": 0}, "pollIntervalSecs": null,
                "registrationTtlSecs": 60}),
    )
    .await;
    assert_eq!(config.status, 200, "{}", config.text());
    let config = raw(addr, "GET", "/_keyless/config", &[], b"").await.json();
    assert_eq!(config["approval"], json!({"mode": "auto", "afterPolls": 0}));
    assert_eq!(config["pollIntervalSecs"], Value::Null);
    assert_eq!(config["accountCount"], 3);
    let bad = post_json(addr, "/_keyless/config", &json!({"accessKeyPrefix": "x"})).await;
    assert_eq!(bad.status, 400);

    let (client_id, client_secret) = register_raw(addr, true).await;
    let clock = post_json(addr, "/_keyless/clock", &json!({"advanceSecs": 61})).await;
    assert!(clock.json()["nowMs"].as_i64().unwrap() > now_ms() + 60_000);
    let resp = post_json(
        addr,
        "/device_authorization",
        &json!({"clientId": client_id, "clientSecret": client_secret, "startUrl": START_URL}),
    )
    .await;
    assert_eq!(
        resp.status, 401,
        "the registration expired on the emulated clock"
    );

    assert_eq!(
        raw(addr, "POST", "/_keyless/reset", &[], b"").await.status,
        200
    );
    let stats: Stats =
        serde_json::from_value(raw(addr, "GET", "/_keyless/stats", &[], b"").await.json()).unwrap();
    assert_eq!(stats.calls(Operation::RegisterClient), 0);
    assert_eq!(stats.registrations, 0);
    let config = raw(addr, "GET", "/_keyless/config", &[], b"").await.json();
    assert_eq!(
        config["pollIntervalSecs"], 1,
        "reset restores the start config"
    );
}

#[tokio::test]
async fn control_approve_and_deny_by_user_code() {
    let emu = emulator(EmulatorConfig {
        approval: Approval::Manual,
        ..EmulatorConfig::default()
    })
    .await;
    let addr = emu.addr();
    let (client_id, client_secret) = register_raw(addr, true).await;
    for (endpoint, expected) in [("/_keyless/approve", 200), ("/_keyless/deny", 400)] {
        let auth = start_raw(addr, &client_id, &client_secret).await;
        let decided = post_json(addr, endpoint, &json!({"userCode": auth["userCode"]})).await;
        assert_eq!(decided.status, 200);
        let resp = poll_raw(addr, &client_id, &client_secret, &auth).await;
        assert_eq!(resp.status, expected, "{endpoint}");
        if expected == 400 {
            assert_eq!(resp.json()["error"], "access_denied");
        }
    }
    let unknown = post_json(addr, "/_keyless/approve", &json!({"userCode": "BBBB-CCCC"})).await;
    assert_eq!(unknown.status, 404);
}

#[tokio::test]
async fn binds_loopback_only() {
    let emu = emulator(EmulatorConfig::default()).await;
    assert!(emu.addr().ip().is_loopback());
    assert!(emu.url().starts_with("http://127.0.0.1:"));
    let addr = emu.addr();
    emu.shutdown().await.unwrap();
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn thousands_of_accounts_page_quickly() {
    let emu = emulator(EmulatorConfig {
        accounts: generate_accounts(5000, &["ReadOnly", "Developer"]),
        ..approve_at_once()
    })
    .await;
    let addr = emu.addr();
    let token = access_token_raw(addr).await;
    let started = std::time::Instant::now();
    let mut seen = 0;
    let mut next: Option<String> = None;
    loop {
        let target = match &next {
            Some(t) => format!("/assignment/accounts?max_result=100&next_token={t}"),
            None => "/assignment/accounts?max_result=100".to_string(),
        };
        let page = get_with_token(addr, &target, &token).await.json();
        seen += page["accountList"].as_array().unwrap().len();
        match page.get("nextToken").and_then(Value::as_str) {
            Some(t) => next = Some(t.to_string()),
            None => break,
        }
    }
    assert_eq!(seen, 5000);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "50 pages took {:?}",
        started.elapsed()
    );
}

#[test]
fn background_emulator_serves_without_a_caller_runtime() {
    use std::io::{Read, Write};
    let emu = super::super::start_in_background(EmulatorConfig::default(), 0).unwrap();
    let addr = emu.addr();
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET /_keyless/stats HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    emu.inject(super::super::Fault::internal(Operation::Logout))
        .unwrap();
    assert_eq!(emu.stats().pending_faults, 1);
    drop(emu);
    assert!(std::net::TcpStream::connect(addr).is_err());
}
