//! The real `aws-sdk-ssooidc` and `aws-sdk-sso` clients against the
//! emulator: the whole flow, and every error as its typed SDK error.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use aws_sdk_sso::error::ProvideErrorMetadata;
use aws_sdk_sso::operation::get_role_credentials::GetRoleCredentialsError;
use aws_sdk_sso::operation::list_account_roles::ListAccountRolesError;
use aws_sdk_sso::operation::list_accounts::ListAccountsError;
use aws_sdk_ssooidc::operation::create_token::CreateTokenError;
use aws_sdk_ssooidc::operation::register_client::RegisterClientError;
use aws_sdk_ssooidc::operation::start_device_authorization::StartDeviceAuthorizationError;
use aws_smithy_types::retry::RetryConfig;

use super::super::issue::account_of_key_id;
use super::super::{
    Approval, ConfigPatch, EmulatorConfig, ErrorKind, Fault, Operation, PollAnswer,
    RefreshRotation, generate_accounts,
};
use super::*;

#[tokio::test]
async fn device_login_then_portal_calls_through_the_sdk() {
    let marker = "SENTINELflow42";
    let accounts = generate_accounts(250, &["AdministratorAccess", "ReadOnly"]);
    let emu = emulator(EmulatorConfig {
        accounts: accounts.clone(),
        approval: Approval::Manual,
        poll_script: vec![
            PollAnswer::Pending,
            PollAnswer::SlowDown,
            PollAnswer::Pending,
            PollAnswer::Success,
        ],
        secret_marker: marker.into(),
        ..EmulatorConfig::default()
    })
    .await;
    let url = emu.url();
    let oidc = oidc_client(&url, None);
    let sso = sso_client(&url, None);

    // Register and start.
    let reg = register(&oidc).await;
    assert!(reg.client_secret.contains(marker));
    let auth = oidc
        .start_device_authorization()
        .client_id(&reg.client_id)
        .client_secret(&reg.client_secret)
        .start_url(START_URL)
        .send()
        .await
        .unwrap();
    let user_code = auth.user_code().unwrap();
    assert_eq!(
        auth.verification_uri(),
        Some(format!("{url}/device").as_str())
    );
    assert_eq!(
        auth.verification_uri_complete(),
        Some(format!("{url}/device?user_code={user_code}").as_str())
    );
    assert_eq!(auth.expires_in(), 600);
    assert_eq!(auth.interval(), 1);
    let device_code = auth.device_code().unwrap();

    // Poll: pending, slow_down, pending, then tokens.
    let mut answers = Vec::new();
    let token = loop {
        match poll(&oidc, &reg, device_code).await {
            Ok(token) => break token,
            Err(e) => answers.push(e),
        }
        assert!(answers.len() < 10, "too many polls");
    };
    assert!(matches!(
        answers.as_slice(),
        [
            CreateTokenError::AuthorizationPendingException(_),
            CreateTokenError::SlowDownException(_),
            CreateTokenError::AuthorizationPendingException(_),
        ]
    ));
    assert_eq!(token.token_type(), Some("Bearer"));
    assert_eq!(token.expires_in(), 8 * 3600);
    let access_token = token.access_token().unwrap().to_string();
    assert!(access_token.starts_with("aoa") && access_token.contains(marker));
    let refresh_token = token.refresh_token().unwrap();
    assert!(refresh_token.starts_with("aor") && refresh_token.contains(marker));

    // The device code is used up.
    assert!(matches!(
        poll(&oidc, &reg, device_code).await,
        Err(CreateTokenError::InvalidGrantException(_))
    ));

    // ListAccounts through the SDK paginator: 250 accounts in pages of 100.
    let listed = sso
        .list_accounts()
        .access_token(&access_token)
        .max_results(100)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .unwrap();
    let ids: Vec<&str> = listed.iter().filter_map(|a| a.account_id()).collect();
    let expected: Vec<&str> = accounts.iter().map(|a| a.account_id.as_str()).collect();
    assert_eq!(ids, expected);
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 250);
    assert_eq!(listed[3].account_name(), Some("account-0004"));
    assert_eq!(emu.stats().calls(Operation::ListAccounts), 3);

    // ListAccountRoles.
    let account = &accounts[17].account_id;
    let roles = sso
        .list_account_roles()
        .access_token(&access_token)
        .account_id(account)
        .max_results(1)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .unwrap();
    let names: Vec<&str> = roles.iter().filter_map(|r| r.role_name()).collect();
    assert_eq!(names, ["AdministratorAccess", "ReadOnly"]);
    assert!(
        roles
            .iter()
            .all(|r| r.account_id() == Some(account.as_str()))
    );

    // GetRoleCredentials: ASIA key that decodes to the account.
    let creds = role_credentials(&sso, &access_token, account, "ReadOnly")
        .await
        .unwrap();
    let creds = creds.role_credentials().unwrap();
    let key_id = creds.access_key_id().unwrap();
    assert!(key_id.starts_with("ASIA") && key_id.len() == 20, "{key_id}");
    assert_eq!(account_of_key_id(key_id).as_deref(), Some(account.as_str()));
    let secret = creds.secret_access_key().unwrap();
    assert_eq!(secret.len(), 40);
    assert!(secret.contains(marker));
    assert!(creds.session_token().unwrap().contains(marker));
    let expected_expiry = now_ms() + 3_600_000;
    assert!(
        (creds.expiration() - expected_expiry).abs() < 60_000,
        "expiration {} is not epoch-ms one hour ahead",
        creds.expiration()
    );

    // Logout: the access token and its refresh token stop working.
    sso.logout()
        .access_token(&access_token)
        .send()
        .await
        .unwrap();
    let err = sso
        .list_accounts()
        .access_token(&access_token)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        matches!(err, ListAccountsError::UnauthorizedException(_)),
        "{err:?}"
    );
    let err = oidc
        .create_token()
        .client_id(&reg.client_id)
        .client_secret(&reg.client_secret)
        .grant_type("refresh_token")
        .refresh_token(refresh_token)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(matches!(err, CreateTokenError::InvalidGrantException(_)));

    let stats = emu.stats();
    assert_eq!(stats.calls(Operation::CreateToken), 6);
    assert_eq!(
        stats.errors(Operation::CreateToken, "AuthorizationPendingException"),
        2
    );
    assert_eq!(stats.access_tokens, 0);
    emu.shutdown().await.unwrap();
}

async fn role_credentials(
    sso: &aws_sdk_sso::Client,
    token: &str,
    account_id: &str,
    role_name: &str,
) -> Result<
    aws_sdk_sso::operation::get_role_credentials::GetRoleCredentialsOutput,
    aws_sdk_sso::error::SdkError<GetRoleCredentialsError>,
> {
    sso.get_role_credentials()
        .access_token(token)
        .account_id(account_id)
        .role_name(role_name)
        .send()
        .await
}

async fn refresh(
    oidc: &aws_sdk_ssooidc::Client,
    reg: &Registration,
    refresh_token: &str,
) -> Result<aws_sdk_ssooidc::operation::create_token::CreateTokenOutput, CreateTokenError> {
    oidc.create_token()
        .client_id(&reg.client_id)
        .client_secret(&reg.client_secret)
        .grant_type("refresh_token")
        .refresh_token(refresh_token)
        .send()
        .await
        .map_err(|e| e.into_service_error())
}

#[tokio::test]
async fn refresh_rotates_and_the_old_refresh_token_is_refused() {
    let emu = emulator(approve_at_once()).await;
    let oidc = oidc_client(&emu.url(), None);
    let sso = sso_client(&emu.url(), None);
    let first = login(&oidc).await;
    let old_refresh = first.refresh_token.clone().unwrap();

    let renewed = refresh(&oidc, &first.reg, &old_refresh).await.unwrap();
    let new_access = renewed.access_token().unwrap();
    let new_refresh = renewed.refresh_token().unwrap();
    assert_ne!(new_access, first.access_token);
    assert_ne!(new_refresh, old_refresh);
    sso.list_accounts()
        .access_token(new_access)
        .send()
        .await
        .unwrap();

    let err = refresh(&oidc, &first.reg, &old_refresh).await.unwrap_err();
    assert!(matches!(err, CreateTokenError::InvalidGrantException(_)));
    assert!(refresh(&oidc, &first.reg, new_refresh).await.is_ok());
}

#[tokio::test]
async fn refresh_rotation_can_omit_or_repeat_the_refresh_token() {
    let emu = emulator(EmulatorConfig {
        refresh_rotation: RefreshRotation::Omit,
        ..approve_at_once()
    })
    .await;
    let oidc = oidc_client(&emu.url(), None);
    let first = login(&oidc).await;
    let refresh_token = first.refresh_token.clone().unwrap();
    for _ in 0..2 {
        let renewed = refresh(&oidc, &first.reg, &refresh_token).await.unwrap();
        assert_eq!(renewed.refresh_token(), None);
    }

    emu.update_config(ConfigPatch {
        refresh_rotation: Some(RefreshRotation::Same),
        ..ConfigPatch::default()
    })
    .unwrap();
    let renewed = refresh(&oidc, &first.reg, &refresh_token).await.unwrap();
    assert_eq!(renewed.refresh_token(), Some(refresh_token.as_str()));
}

#[tokio::test]
async fn unscoped_registrations_get_no_refresh_token() {
    let emu = emulator(approve_at_once()).await;
    let oidc = oidc_client(&emu.url(), None);
    let out = oidc
        .register_client()
        .client_name("legacy")
        .client_type("public")
        .send()
        .await
        .unwrap();
    let reg = Registration {
        client_id: out.client_id().unwrap().into(),
        client_secret: out.client_secret().unwrap().into(),
    };
    let device_code = start_device(&oidc, &reg).await;
    let token = poll(&oidc, &reg, &device_code).await.unwrap();
    assert!(token.access_token().is_some());
    assert_eq!(token.refresh_token(), None);
}

#[tokio::test]
async fn expired_device_code_is_expired_token_exception() {
    let emu = emulator(EmulatorConfig {
        approval: Approval::Manual,
        ..EmulatorConfig::default()
    })
    .await;
    let oidc = oidc_client(&emu.url(), None);
    let reg = register(&oidc).await;
    let device_code = start_device(&oidc, &reg).await;
    assert!(matches!(
        poll(&oidc, &reg, &device_code).await,
        Err(CreateTokenError::AuthorizationPendingException(_))
    ));
    emu.advance_clock(601);
    let err = poll(&oidc, &reg, &device_code).await.unwrap_err();
    assert!(
        matches!(err, CreateTokenError::ExpiredTokenException(_)),
        "{err:?}"
    );
    assert_eq!(err.meta().code(), Some("ExpiredTokenException"));
}

#[tokio::test]
async fn denial_is_access_denied_exception() {
    let emu = emulator(EmulatorConfig {
        approval: Approval::Deny,
        ..EmulatorConfig::default()
    })
    .await;
    let oidc = oidc_client(&emu.url(), None);
    let reg = register(&oidc).await;
    let device_code = start_device(&oidc, &reg).await;
    let err = poll(&oidc, &reg, &device_code).await.unwrap_err();
    assert!(
        matches!(err, CreateTokenError::AccessDeniedException(_)),
        "{err:?}"
    );
}

#[tokio::test]
async fn approval_after_n_polls_and_by_user_code() {
    let emu = emulator(EmulatorConfig {
        approval: Approval::Auto { after_polls: 2 },
        ..EmulatorConfig::default()
    })
    .await;
    let oidc = oidc_client(&emu.url(), None);
    let reg = register(&oidc).await;
    let device_code = start_device(&oidc, &reg).await;
    for _ in 0..2 {
        assert!(matches!(
            poll(&oidc, &reg, &device_code).await,
            Err(CreateTokenError::AuthorizationPendingException(_))
        ));
    }
    assert!(poll(&oidc, &reg, &device_code).await.is_ok());

    emu.update_config(ConfigPatch {
        approval: Some(Approval::Manual),
        ..ConfigPatch::default()
    })
    .unwrap();
    let auth = oidc
        .start_device_authorization()
        .client_id(&reg.client_id)
        .client_secret(&reg.client_secret)
        .start_url(START_URL)
        .send()
        .await
        .unwrap();
    let device_code = auth.device_code().unwrap();
    for _ in 0..3 {
        assert!(poll(&oidc, &reg, device_code).await.is_err());
    }
    emu.approve(&auth.user_code().unwrap().to_lowercase())
        .unwrap();
    assert!(poll(&oidc, &reg, device_code).await.is_ok());
    assert!(emu.approve("ZZZZ-ZZZZ").is_err());
}

#[tokio::test]
async fn wrong_secret_and_expired_registration_are_invalid_client() {
    let emu = emulator(approve_at_once()).await;
    let oidc = oidc_client(&emu.url(), None);
    let reg = register(&oidc).await;
    let wrong = Registration {
        client_id: reg.client_id.clone(),
        client_secret: format!("{}x", reg.client_secret),
    };
    let err = oidc
        .start_device_authorization()
        .client_id(&wrong.client_id)
        .client_secret(&wrong.client_secret)
        .start_url(START_URL)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        matches!(
            err,
            StartDeviceAuthorizationError::InvalidClientException(_)
        ),
        "{err:?}"
    );

    let device_code = start_device(&oidc, &reg).await;
    let err = poll(&oidc, &wrong, &device_code).await.unwrap_err();
    assert!(matches!(err, CreateTokenError::InvalidClientException(_)));

    emu.advance_clock(90 * 24 * 3600 + 1);
    let err = poll(&oidc, &reg, &device_code).await.unwrap_err();
    assert!(
        matches!(err, CreateTokenError::InvalidClientException(_)),
        "{err:?}"
    );
}

#[tokio::test]
async fn bad_refresh_token_is_invalid_grant() {
    let emu = emulator(approve_at_once()).await;
    let oidc = oidc_client(&emu.url(), None);
    let first = login(&oidc).await;
    let err = refresh(&oidc, &first.reg, "aorNOTATOKEN")
        .await
        .unwrap_err();
    assert!(matches!(err, CreateTokenError::InvalidGrantException(_)));
    let other = register(&oidc).await;
    let stolen = first.refresh_token.as_deref().unwrap();
    let err = refresh(&oidc, &other, stolen).await.unwrap_err();
    assert!(
        matches!(err, CreateTokenError::InvalidGrantException(_)),
        "a refresh token works only for its own client"
    );
}

#[tokio::test]
async fn forced_invalid_grant_hits_only_the_next_refresh() {
    let emu = emulator(approve_at_once()).await;
    let oidc = oidc_client(&emu.url(), None);
    emu.inject(
        Fault::error(Operation::CreateToken, ErrorKind::InvalidGrant).for_grant("refresh_token"),
    )
    .unwrap();
    let first = login(&oidc).await; // a device-code grant: unaffected
    let refresh_token = first.refresh_token.unwrap();
    let err = refresh(&oidc, &first.reg, &refresh_token)
        .await
        .unwrap_err();
    assert!(matches!(err, CreateTokenError::InvalidGrantException(_)));
    assert!(refresh(&oidc, &first.reg, &refresh_token).await.is_ok());
}

#[tokio::test]
async fn bad_expired_or_injected_bearer_tokens_are_unauthorized() {
    let emu = emulator(approve_at_once()).await;
    let oidc = oidc_client(&emu.url(), None);
    let sso = sso_client(&emu.url(), None);
    let first = login(&oidc).await;

    let get = |token: String| {
        let sso = sso.clone();
        async move {
            role_credentials(&sso, &token, "111122223333", "ReadOnly")
                .await
                .map_err(|e| e.into_service_error())
        }
    };
    let err = get("aoaGARBAGE".into()).await.unwrap_err();
    assert!(matches!(
        err,
        GetRoleCredentialsError::UnauthorizedException(_)
    ));
    assert_eq!(err.message(), Some("Session token not found or invalid"));

    assert!(get(first.access_token.clone()).await.is_ok());
    emu.inject(Fault::unauthorized(Operation::GetRoleCredentials))
        .unwrap();
    let err = get(first.access_token.clone()).await.unwrap_err();
    assert!(matches!(
        err,
        GetRoleCredentialsError::UnauthorizedException(_)
    ));
    assert!(get(first.access_token.clone()).await.is_ok());

    emu.advance_clock(8 * 3600);
    let err = get(first.access_token.clone()).await.unwrap_err();
    assert!(
        matches!(err, GetRoleCredentialsError::UnauthorizedException(_)),
        "an expired access token is refused"
    );
}

#[tokio::test]
async fn unassigned_role_is_forbidden_and_unknown_account_not_found() {
    let emu = emulator(approve_at_once()).await;
    let oidc = oidc_client(&emu.url(), None);
    let sso = sso_client(&emu.url(), None);
    let token = login(&oidc).await.access_token;
    // production has only ReadOnly.
    let err = role_credentials(&sso, &token, "777788889999", "AdministratorAccess")
        .await
        .unwrap_err();
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(403));
    let err = err.into_service_error();
    assert_eq!(err.code(), Some("ForbiddenException"));

    let err = sso
        .list_account_roles()
        .access_token(&token)
        .account_id("000000000000")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        matches!(err, ListAccountRolesError::ResourceNotFoundException(_)),
        "{err:?}"
    );
}

#[tokio::test]
async fn throttling_and_server_errors_surface_when_retries_are_off() {
    let emu = emulator(approve_at_once()).await;
    let oidc = oidc_client(&emu.url(), None);
    let sso = sso_client(&emu.url(), None);
    let token = login(&oidc).await.access_token;

    emu.inject(Fault::throttle(Operation::ListAccounts))
        .unwrap();
    let err = sso
        .list_accounts()
        .access_token(&token)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        matches!(err, ListAccountsError::TooManyRequestsException(_)),
        "{err:?}"
    );

    emu.inject(Fault::internal(Operation::RegisterClient))
        .unwrap();
    let err = oidc
        .register_client()
        .client_name("x")
        .client_type("public")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        matches!(err, RegisterClientError::InternalServerException(_)),
        "{err:?}"
    );

    emu.inject(Fault::internal(Operation::GetRoleCredentials))
        .unwrap();
    let err = role_credentials(&sso, &token, "111122223333", "ReadOnly")
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("InternalServerException"));
}

#[tokio::test]
async fn sdk_standard_retries_ride_over_transient_faults() {
    let emu = emulator(approve_at_once()).await;
    let oidc = oidc_client(&emu.url(), None);
    let retry = RetryConfig::standard()
        .with_max_attempts(3)
        .with_initial_backoff(Duration::from_millis(5));
    let sso = sso_client(&emu.url(), Some(retry));
    let token = login(&oidc).await.access_token;
    emu.inject(Fault::internal(Operation::ListAccounts))
        .unwrap();
    emu.inject(Fault::throttle(Operation::ListAccounts))
        .unwrap();
    let out = sso
        .list_accounts()
        .access_token(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(out.account_list().len(), 3);
    let stats = emu.stats();
    assert_eq!(stats.calls(Operation::ListAccounts), 3);
    assert_eq!(
        stats.errors(Operation::ListAccounts, "TooManyRequestsException"),
        1
    );
    assert_eq!(
        stats.errors(Operation::ListAccounts, "InternalServerException"),
        1
    );
}

#[tokio::test]
async fn injected_latency_delays_the_answer() {
    let emu = emulator(approve_at_once()).await;
    let oidc = oidc_client(&emu.url(), None);
    emu.inject(Fault::latency(Operation::RegisterClient, 300))
        .unwrap();
    let started = Instant::now();
    register(&oidc).await;
    assert!(started.elapsed() >= Duration::from_millis(300));
    let started = Instant::now();
    register(&oidc).await;
    assert!(started.elapsed() < Duration::from_millis(300));
}

#[tokio::test]
async fn akia_prefix_and_missing_session_token_are_served_when_asked() {
    let emu = emulator(EmulatorConfig {
        access_key_prefix: "AKIA".into(),
        omit_session_token: true,
        ..approve_at_once()
    })
    .await;
    let oidc = oidc_client(&emu.url(), None);
    let sso = sso_client(&emu.url(), None);
    let token = login(&oidc).await.access_token;
    let out = role_credentials(&sso, &token, "444455556666", "Developer")
        .await
        .unwrap();
    let creds = out.role_credentials().unwrap();
    let key_id = creds.access_key_id().unwrap();
    assert!(key_id.starts_with("AKIA"), "{key_id}");
    assert_eq!(account_of_key_id(key_id).as_deref(), Some("444455556666"));
    assert_eq!(creds.session_token(), None);
}

#[tokio::test]
async fn polling_faster_than_the_interval_is_slowed_down_when_enforced() {
    let emu = emulator(EmulatorConfig {
        approval: Approval::Manual,
        enforce_poll_interval: true,
        poll_interval_secs: Some(1),
        ..EmulatorConfig::default()
    })
    .await;
    let oidc = oidc_client(&emu.url(), None);
    let reg = register(&oidc).await;
    let device_code = start_device(&oidc, &reg).await;
    let answer = async |advance: i64| {
        emu.advance_clock(advance);
        match poll(&oidc, &reg, &device_code).await {
            Err(CreateTokenError::AuthorizationPendingException(_)) => "pending",
            Err(CreateTokenError::SlowDownException(_)) => "slow_down",
            other => panic!("unexpected answer {other:?}"),
        }
    };
    assert_eq!(answer(0).await, "pending");
    assert_eq!(answer(0).await, "slow_down"); // the interval is now 6 s
    assert_eq!(answer(2).await, "slow_down"); // 2 < 6; now 11 s
    assert_eq!(answer(11).await, "pending");
    assert_eq!(answer(10).await, "slow_down");
    assert_eq!(answer(16).await, "pending");
}

mod pkce {
    use super::super::super::authorize::percent_encode;
    use super::*;

    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    const REDIRECT: &str = "http://127.0.0.1:44465/oauth/callback";

    async fn register_pkce(oidc: &aws_sdk_ssooidc::Client) -> Registration {
        let out = oidc
            .register_client()
            .client_name("botocore-client-my-sso")
            .client_type("public")
            .grant_types("authorization_code")
            .grant_types("refresh_token")
            .redirect_uris("http://127.0.0.1/oauth/callback")
            .issuer_url(START_URL)
            .scopes("sso:account:access")
            .send()
            .await
            .unwrap();
        Registration {
            client_id: out.client_id().unwrap().into(),
            client_secret: out.client_secret().unwrap().into(),
        }
    }

    fn authorize_target(reg: &Registration, redirect: &str) -> String {
        format!(
            "/authorize?response_type=code&client_id={}&redirect_uri={}&state=st%20ate\
             &code_challenge_method=S256&scopes=sso%3Aaccount%3Aaccess&code_challenge={CHALLENGE}",
            percent_encode(&reg.client_id),
            percent_encode(redirect)
        )
    }

    /// The browser's side: GET /authorize, return the code from the redirect.
    async fn browse(emu: &super::super::super::RunningEmulator, reg: &Registration) -> String {
        let resp = raw(
            emu.addr(),
            "GET",
            &authorize_target(reg, REDIRECT),
            &[],
            b"",
        )
        .await;
        assert_eq!(resp.status, 302, "{}", resp.text());
        let location = resp.header("location").unwrap();
        let query = location
            .strip_prefix(&format!("{REDIRECT}?"))
            .unwrap_or_else(|| panic!("redirects to the callback: {location}"));
        assert!(query.ends_with("&state=st%20ate"), "{location}");
        query
            .strip_prefix("code=")
            .and_then(|q| q.split('&').next())
            .unwrap()
            .to_string()
    }

    async fn redeem(
        oidc: &aws_sdk_ssooidc::Client,
        reg: &Registration,
        code: &str,
        redirect: &str,
        verifier: &str,
    ) -> Result<aws_sdk_ssooidc::operation::create_token::CreateTokenOutput, CreateTokenError> {
        oidc.create_token()
            .client_id(&reg.client_id)
            .client_secret(&reg.client_secret)
            .grant_type("authorization_code")
            .code(code)
            .redirect_uri(redirect)
            .code_verifier(verifier)
            .send()
            .await
            .map_err(|e| e.into_service_error())
    }

    #[tokio::test]
    async fn authorization_code_login_through_the_sdk() {
        let emu = emulator(approve_at_once()).await;
        let oidc = oidc_client(&emu.url(), None);
        let sso = sso_client(&emu.url(), None);
        let reg = register_pkce(&oidc).await;

        let code = browse(&emu, &reg).await;
        let token = redeem(&oidc, &reg, &code, REDIRECT, VERIFIER)
            .await
            .unwrap();
        assert!(token.refresh_token().unwrap().starts_with("aor"));
        sso.list_accounts()
            .access_token(token.access_token().unwrap())
            .send()
            .await
            .unwrap();

        let reused = redeem(&oidc, &reg, &code, REDIRECT, VERIFIER).await;
        assert!(matches!(
            reused,
            Err(CreateTokenError::InvalidGrantException(_))
        ));

        let code = browse(&emu, &reg).await;
        let wrong_verifier = redeem(&oidc, &reg, &code, REDIRECT, &VERIFIER[1..]).await;
        assert!(matches!(
            wrong_verifier,
            Err(CreateTokenError::InvalidGrantException(_))
        ));

        let code = browse(&emu, &reg).await;
        let other_port = "http://127.0.0.1:1/oauth/callback";
        let wrong_redirect = redeem(&oidc, &reg, &code, other_port, VERIFIER).await;
        assert!(matches!(
            wrong_redirect,
            Err(CreateTokenError::InvalidGrantException(_))
        ));

        let code = browse(&emu, &reg).await;
        emu.advance_clock(601);
        let expired = redeem(&oidc, &reg, &code, REDIRECT, VERIFIER).await;
        assert!(
            matches!(expired, Err(CreateTokenError::ExpiredTokenException(_))),
            "{expired:?}"
        );
    }

    #[tokio::test]
    async fn authorize_refuses_unregistered_redirects_and_asks_in_manual_mode() {
        let emu = emulator(EmulatorConfig {
            approval: Approval::Manual,
            ..EmulatorConfig::default()
        })
        .await;
        let oidc = oidc_client(&emu.url(), None);
        let reg = register_pkce(&oidc).await;

        let evil = raw(
            emu.addr(),
            "GET",
            &authorize_target(&reg, "http://evil.example:8080/oauth/callback"),
            &[],
            b"",
        )
        .await;
        assert_eq!(evil.status, 400);
        assert!(evil.header("location").is_none());

        let ask = raw(
            emu.addr(),
            "GET",
            &authorize_target(&reg, REDIRECT),
            &[],
            b"",
        )
        .await;
        assert_eq!(ask.status, 200);
        let html = ask.text();
        let link = |action: &str| {
            let end = html.find(&format!("action={action}")).unwrap();
            let start = html[..end].rfind("href=\"").unwrap() + 6;
            html[start..end + 7 + action.len()].replace("&amp;", "&")
        };
        let deny = raw(emu.addr(), "GET", &link("deny"), &[], b"").await;
        assert_eq!(deny.status, 302);
        let location = deny.header("location").unwrap();
        assert!(location.contains("error=access_denied"), "{location}");
        assert!(location.contains("state=st%20ate"), "{location}");

        let allow = raw(emu.addr(), "GET", &link("approve"), &[], b"").await;
        assert_eq!(allow.status, 302);
        let location = allow.header("location").unwrap();
        let code = location
            .split("code=")
            .nth(1)
            .unwrap()
            .split('&')
            .next()
            .unwrap();
        assert!(redeem(&oidc, &reg, code, REDIRECT, VERIFIER).await.is_ok());

        // A device-flow registration may not use /authorize.
        let device_reg = register(&oidc).await;
        let refused = raw(
            emu.addr(),
            "GET",
            &authorize_target(&device_reg, REDIRECT),
            &[],
            b"",
        )
        .await;
        assert_eq!(refused.status, 400, "no redirect URI was registered");
    }

    #[tokio::test]
    async fn pkce_registration_needs_redirect_uris() {
        let emu = emulator(EmulatorConfig::default()).await;
        let oidc = oidc_client(&emu.url(), None);
        let err = oidc
            .register_client()
            .client_name("x")
            .client_type("public")
            .grant_types("authorization_code")
            .send()
            .await
            .unwrap_err()
            .into_service_error();
        assert!(
            matches!(err, RegisterClientError::InvalidRedirectUriException(_)),
            "{err:?}"
        );
    }
}

fn create_token_variant(err: &CreateTokenError) -> &'static str {
    use CreateTokenError as E;
    match err {
        E::AccessDeniedException(_) => "AccessDeniedException",
        E::AuthorizationPendingException(_) => "AuthorizationPendingException",
        E::ExpiredTokenException(_) => "ExpiredTokenException",
        E::InternalServerException(_) => "InternalServerException",
        E::InvalidClientException(_) => "InvalidClientException",
        E::InvalidGrantException(_) => "InvalidGrantException",
        E::InvalidRequestException(_) => "InvalidRequestException",
        E::InvalidScopeException(_) => "InvalidScopeException",
        E::SlowDownException(_) => "SlowDownException",
        E::UnauthorizedClientException(_) => "UnauthorizedClientException",
        E::UnsupportedGrantTypeException(_) => "UnsupportedGrantTypeException",
        _ => "unmodeled",
    }
}

fn list_accounts_variant(err: &ListAccountsError) -> &'static str {
    use ListAccountsError as E;
    match err {
        E::InvalidRequestException(_) => "InvalidRequestException",
        E::ResourceNotFoundException(_) => "ResourceNotFoundException",
        E::TooManyRequestsException(_) => "TooManyRequestsException",
        E::UnauthorizedException(_) => "UnauthorizedException",
        _ => "unmodeled",
    }
}

#[tokio::test]
async fn every_injected_error_is_its_typed_sdk_error() {
    let emu = emulator(EmulatorConfig {
        approval: Approval::Manual,
        ..EmulatorConfig::default()
    })
    .await;
    let oidc = oidc_client(&emu.url(), None);
    let sso = sso_client(&emu.url(), None);
    let reg = register(&oidc).await;
    let device_code = start_device(&oidc, &reg).await;
    for kind in [
        ErrorKind::AccessDenied,
        ErrorKind::AuthorizationPending,
        ErrorKind::ExpiredToken,
        ErrorKind::InternalServer,
        ErrorKind::InvalidClient,
        ErrorKind::InvalidGrant,
        ErrorKind::InvalidRequest,
        ErrorKind::InvalidScope,
        ErrorKind::SlowDown,
        ErrorKind::UnauthorizedClient,
        ErrorKind::UnsupportedGrantType,
    ] {
        emu.inject(Fault::error(Operation::CreateToken, kind))
            .unwrap();
        let err = poll(&oidc, &reg, &device_code).await.unwrap_err();
        assert_eq!(create_token_variant(&err), kind.name());
    }
    for kind in [
        ErrorKind::InvalidRequest,
        ErrorKind::ResourceNotFound,
        ErrorKind::TooManyRequests,
        ErrorKind::Unauthorized,
    ] {
        emu.inject(Fault::error(Operation::ListAccounts, kind))
            .unwrap();
        let err = sso
            .list_accounts()
            .access_token("unused")
            .send()
            .await
            .unwrap_err()
            .into_service_error();
        assert_eq!(list_accounts_variant(&err), kind.name());
    }
    // Forbidden is not modeled: the SDK keeps its code.
    emu.inject(Fault::error(Operation::ListAccounts, ErrorKind::Forbidden))
        .unwrap();
    let err = sso
        .list_accounts()
        .access_token("unused")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(list_accounts_variant(&err), "unmodeled");
    assert_eq!(err.code(), Some("ForbiddenException"));
}
