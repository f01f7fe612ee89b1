//! One test per lifecycle branch, against a scripted Identity Center, the
//! in-memory store and a fixed clock: resolve, then execute.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;
use std::time::Instant;

use super::*;
use crate::store::MemoryStore;

const NOW: i64 = 1_800_000_000;
const KEY_ID: &str = "ASIAY34FZKBOKMUTVV7A";

/// Answers scripted per operation, and every call recorded.
#[derive(Default)]
struct Scripted {
    register: RefCell<VecDeque<Result<ClientRegistration, ApiError>>>,
    start: RefCell<VecDeque<Result<DeviceAuthorization, ApiError>>>,
    create: RefCell<VecDeque<Result<TokenGrant, ApiError>>>,
    refresh: RefCell<VecDeque<Result<TokenGrant, ApiError>>>,
    role: RefCell<VecDeque<Result<Credentials, ApiError>>>,
    code: RefCell<VecDeque<Result<TokenGrant, ApiError>>>,
    /// What CreateToken with a code was given: code, verifier, redirect URI.
    code_args: RefCell<Vec<(String, String, String)>>,
    calls: RefCell<Vec<&'static str>>,
}

fn next<T>(
    op: &'static str,
    queue: &RefCell<VecDeque<Result<T, ApiError>>>,
) -> Result<T, ApiError> {
    queue
        .borrow_mut()
        .pop_front()
        .unwrap_or_else(|| panic!("{op} was not expected"))
}

impl Scripted {
    fn record(&self, op: &'static str) {
        self.calls.borrow_mut().push(op);
    }

    fn count(&self, op: &str) -> usize {
        self.calls.borrow().iter().filter(|c| **c == op).count()
    }
}

impl IdentityCenter for Scripted {
    async fn register_client(
        &self,
        _client_name: &str,
        _scopes: &[String],
    ) -> Result<ClientRegistration, ApiError> {
        self.record("RegisterClient");
        next("RegisterClient", &self.register)
    }
    async fn start_device_authorization(
        &self,
        _registration: &ClientRegistration,
        _start_url: &str,
    ) -> Result<DeviceAuthorization, ApiError> {
        self.record("StartDeviceAuthorization");
        next("StartDeviceAuthorization", &self.start)
    }
    async fn create_token_with_device_code(
        &self,
        _registration: &ClientRegistration,
        _device: &DeviceAuthorization,
    ) -> Result<TokenGrant, ApiError> {
        self.record("CreateToken");
        next("CreateToken", &self.create)
    }
    async fn refresh_token(
        &self,
        _registration: &ClientRegistration,
        _refresh_token: &Secret<String>,
    ) -> Result<TokenGrant, ApiError> {
        self.record("Refresh");
        next("Refresh", &self.refresh)
    }
    async fn role_credentials(
        &self,
        _access_token: &Secret<String>,
        _account_id: &str,
        _role_name: &str,
    ) -> Result<Credentials, ApiError> {
        self.record("GetRoleCredentials");
        next("GetRoleCredentials", &self.role)
    }
    async fn logout(&self, _access_token: &Secret<String>) -> Result<(), ApiError> {
        self.record("Logout");
        Ok(())
    }
    async fn register_client_for_code(
        &self,
        _client_name: &str,
        _scopes: &[String],
        _issuer_url: &str,
    ) -> Result<ClientRegistration, ApiError> {
        self.record("RegisterClientForCode");
        next("RegisterClient", &self.register).map(|r| ClientRegistration {
            code_grant: true,
            ..r
        })
    }
    async fn create_token_with_code(
        &self,
        _registration: &ClientRegistration,
        code: &Secret<String>,
        verifier: &Secret<String>,
        redirect_uri: &str,
    ) -> Result<TokenGrant, ApiError> {
        self.record("CreateTokenWithCode");
        self.code_args.borrow_mut().push((
            code.expose().clone(),
            verifier.expose().clone(),
            redirect_uri.to_string(),
        ));
        next("CreateTokenWithCode", &self.code)
    }
}

/// A browser that answers at once with a code, or an error; it records
/// the URL it was sent to.
struct Browser {
    answer: Result<&'static str, fn() -> PkceError>,
    url: Rc<RefCell<String>>,
}

impl CodeReceiver for Browser {
    fn redirect_uri(&self) -> String {
        "http://127.0.0.1:4242/oauth/callback".into()
    }
    async fn receive(self, url: &str, _state: &str) -> Result<Secret<String>, PkceError> {
        *self.url.borrow_mut() = url.to_string();
        self.answer
            .map(|code| Secret::new(code.to_string()))
            .map_err(|e| e())
    }
}

struct Fixed(Cell<i64>);

impl WallClock for Fixed {
    fn now(&self) -> i64 {
        self.0.get()
    }
}

fn session() -> SsoSession {
    SsoSession {
        name: "corp".into(),
        start_url: "https://d-1234567890.awsapps.com/start".into(),
        region: "us-east-1".into(),
        scopes: vec!["sso:account:access".into()],
        legacy: false,
        store: None,
        pkce: false,
    }
}

fn plan() -> RolePlan {
    RolePlan {
        profile: Some("dev".into()),
        session: session(),
        account_id: "111122223333".into(),
        role_name: "Developer".into(),
        auto_login: false,
    }
}

fn error(kind: ApiErrorKind) -> ApiError {
    ApiError {
        operation: "test",
        kind,
        message: None,
    }
}

fn registration(id: &str, scopes: &[&str]) -> ClientRegistration {
    ClientRegistration {
        client_id: id.into(),
        client_secret: Secret::new(format!("secret-{id}")),
        expires_at: NOW + 90 * 86_400,
        scopes: scopes.iter().map(|s| s.to_string()).collect(),
        code_grant: false,
    }
}

fn device() -> DeviceAuthorization {
    DeviceAuthorization {
        device_code: Secret::new("device-code".into()),
        user_code: "ABCD-EFGH".into(),
        verification_uri: "https://device.example/".into(),
        verification_uri_complete: "https://device.example/?user_code=ABCD-EFGH".into(),
        expires_in: 600,
        interval: Some(1),
    }
}

fn grant(access: &str) -> TokenGrant {
    TokenGrant {
        access_token: Secret::new(access.into()),
        expires_in: 3600,
        refresh_token: Some(Secret::new(format!("refresh-{access}"))),
    }
}

fn role_creds() -> Credentials {
    Credentials {
        access_key_id: KEY_ID.into(),
        secret_access_key: Secret::new("secret".into()),
        session_token: Secret::new("session".into()),
        expiration: NOW + 3600,
        account_id: Some("111122223333".into()),
    }
}

/// A signed-in store: a token expiring `token_left` seconds from NOW,
/// with a refresh token, and a valid registration.
fn signed_in(token_left: i64) -> MemoryStore {
    let store = MemoryStore::new();
    store::save_token(
        &store,
        "corp",
        &TokenItem {
            access_token: Secret::new("current".into()),
            expires_at: NOW + token_left,
            refresh_token: Some(Secret::new("refresh".into())),
        },
    )
    .unwrap();
    store::save_registration(
        &store,
        "corp",
        &Registration::from(&registration("cached", &["sso:account:access"])),
    )
    .unwrap();
    store
}

fn auth<'a>(
    store: &'a MemoryStore,
    ic: &'a Scripted,
    clock: &'a Fixed,
    locks: Option<&'a Locks>,
) -> Auth<'a, Scripted> {
    Auth {
        store,
        identity_center: ic,
        clock,
        state: None,
        locks,
        login_command: "keyless login --sso-session corp".into(),
    }
}

fn block_on<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

struct NoUi;

impl LoginUi for NoUi {
    fn prompt(&mut self, _session: &SsoSession, _device: &DeviceAuthorization) {}
}

fn login(store: &MemoryStore, ic: &Scripted) -> Result<TokenItem, AuthError> {
    let clock = Fixed(Cell::new(NOW));
    block_on(auth(store, ic, &clock, None).login(&session(), &mut NoUi, false))
}

#[test]
fn start_device_authorization_invalid_client_registers_again() {
    let store = signed_in(-10);
    let ic = Scripted::default();
    ic.start
        .borrow_mut()
        .extend([Err(error(ApiErrorKind::InvalidClient)), Ok(device())]);
    ic.register
        .borrow_mut()
        .push_back(Ok(registration("new", &["sso:account:access"])));
    ic.create.borrow_mut().push_back(Ok(grant("fresh")));

    let token = login(&store, &ic).unwrap();

    assert_eq!(token.access_token.expose(), "fresh");
    assert_eq!(ic.count("RegisterClient"), 1);
    assert_eq!(ic.count("StartDeviceAuthorization"), 2);
    let saved = store::load_registration(&store, "corp").unwrap().unwrap();
    assert_eq!(saved.client_id, "new");
}

#[test]
fn a_cached_registration_with_the_same_scopes_is_reused() {
    let store = signed_in(-10);
    let ic = Scripted::default();
    ic.start.borrow_mut().push_back(Ok(device()));
    ic.create.borrow_mut().push_back(Ok(grant("fresh")));

    login(&store, &ic).unwrap();

    assert_eq!(ic.count("RegisterClient"), 0);
}

#[test]
fn different_scopes_than_the_cached_registration_register_again() {
    let store = signed_in(-10);
    store::save_registration(
        &store,
        "corp",
        &Registration::from(&registration(
            "old",
            &["sso:account:access", "codewhisperer"],
        )),
    )
    .unwrap();
    let ic = Scripted::default();
    ic.register
        .borrow_mut()
        .push_back(Ok(registration("new", &["sso:account:access"])));
    ic.start.borrow_mut().push_back(Ok(device()));
    ic.create.borrow_mut().push_back(Ok(grant("fresh")));

    login(&store, &ic).unwrap();

    assert_eq!(ic.count("RegisterClient"), 1);
    let saved = store::load_registration(&store, "corp").unwrap().unwrap();
    assert_eq!(saved.client_id, "new");
}

#[test]
fn refresh_invalid_client_drops_the_registration() {
    let store = signed_in(-10);
    let ic = Scripted::default();
    ic.refresh
        .borrow_mut()
        .push_back(Err(error(ApiErrorKind::InvalidClient)));
    let clock = Fixed(Cell::new(NOW));

    let result = block_on(auth(&store, &ic, &clock, None).access_token(&session(), None));

    assert!(matches!(result, Err(AuthError::LoginRequired { .. })));
    assert_eq!(ic.count("Refresh"), 1);
    assert!(store::load_registration(&store, "corp").unwrap().is_none());
}

#[test]
fn refresh_failure_while_the_token_is_valid_uses_the_current_token() {
    // Two minutes left: inside the refresh window, still valid.
    let store = signed_in(120);
    let ic = Scripted::default();
    ic.refresh
        .borrow_mut()
        .push_back(Err(error(ApiErrorKind::Server { status: 500 })));
    let clock = Fixed(Cell::new(NOW));

    let token = block_on(auth(&store, &ic, &clock, None).access_token(&session(), None)).unwrap();

    assert_eq!(token.expose(), "current");
    assert_eq!(ic.count("Refresh"), 1);
}

#[test]
fn refresh_failure_with_an_expired_token_is_an_error() {
    let store = signed_in(-1);
    let ic = Scripted::default();
    ic.refresh
        .borrow_mut()
        .push_back(Err(error(ApiErrorKind::Server { status: 500 })));
    let clock = Fixed(Cell::new(NOW));

    let result = block_on(auth(&store, &ic, &clock, None).access_token(&session(), None));

    assert!(matches!(result, Err(AuthError::Api(_))), "{result:?}");
}

#[test]
fn a_refreshed_token_is_saved_with_the_clock_time() {
    let store = signed_in(60);
    let ic = Scripted::default();
    ic.refresh.borrow_mut().push_back(Ok(grant("refreshed")));
    let clock = Fixed(Cell::new(NOW));

    let token = block_on(auth(&store, &ic, &clock, None).access_token(&session(), None)).unwrap();

    assert_eq!(token.expose(), "refreshed");
    let saved = store::load_token(&store, "corp").unwrap().unwrap();
    assert_eq!(saved.expires_at, NOW + 3600);
    assert_eq!(saved.refresh_token.unwrap().expose(), "refresh-refreshed");
}

#[test]
fn a_second_unauthorized_after_one_refresh_means_login_required() {
    let store = signed_in(3600);
    let ic = Scripted::default();
    ic.role.borrow_mut().extend([
        Err(error(ApiErrorKind::Unauthorized)),
        Err(error(ApiErrorKind::Unauthorized)),
    ]);
    ic.refresh.borrow_mut().push_back(Ok(grant("refreshed")));
    let clock = Fixed(Cell::new(NOW));

    let result = block_on(auth(&store, &ic, &clock, None).role_credentials(&plan()));

    assert!(
        matches!(result, Err(AuthError::LoginRequired { .. })),
        "{result:?}"
    );
    assert_eq!(ic.count("Refresh"), 1);
    assert_eq!(ic.count("GetRoleCredentials"), 2);
}

#[test]
fn one_unauthorized_refreshes_and_retries_once() {
    let store = signed_in(3600);
    let ic = Scripted::default();
    ic.role
        .borrow_mut()
        .extend([Err(error(ApiErrorKind::Unauthorized)), Ok(role_creds())]);
    ic.refresh.borrow_mut().push_back(Ok(grant("refreshed")));
    let clock = Fixed(Cell::new(NOW));

    let creds = block_on(auth(&store, &ic, &clock, None).role_credentials(&plan())).unwrap();

    assert_eq!(creds.access_key_id, KEY_ID);
    assert_eq!(ic.count("Refresh"), 1);
    assert!(cached_role(&store, &plan(), NOW).unwrap().is_some());
}

#[test]
fn cached_role_credentials_follow_the_clock() {
    let store = signed_in(3600);
    let ic = Scripted::default();
    ic.role.borrow_mut().push_back(Ok(role_creds()));
    let clock = Fixed(Cell::new(NOW));
    block_on(auth(&store, &ic, &clock, None).role_credentials(&plan())).unwrap();

    assert!(cached_role(&store, &plan(), NOW).unwrap().is_some());
    // Under 15 minutes left: a miss, fetched again.
    assert!(
        cached_role(&store, &plan(), NOW + 3600 - 14 * 60)
            .unwrap()
            .is_none()
    );
}

#[test]
fn credentials_with_an_absurd_expiry_are_refused_and_not_cached() {
    let store = signed_in(3600);
    let ic = Scripted::default();
    let mut creds = role_creds();
    creds.expiration = 99_999_999_999_999 / 1000;
    ic.role.borrow_mut().push_back(Ok(creds));
    let clock = Fixed(Cell::new(NOW));

    let result = block_on(auth(&store, &ic, &clock, None).role_credentials(&plan()));

    assert!(
        matches!(
            result,
            Err(AuthError::Refused(Refusal::ImplausibleExpiry { .. }))
        ),
        "{result:?}"
    );
    assert!(
        store::load_role(&store, "corp", "111122223333", "Developer")
            .unwrap()
            .is_none()
    );
}

#[test]
fn a_held_session_lock_with_a_valid_token_answers_at_once() {
    let tmp = tempfile::tempdir().unwrap();
    let locks = Locks::new(tmp.path().join("locks"));
    // Another process (here: this guard) is signing in or refreshing.
    let _held = locks.session("corp", Duration::from_secs(1)).unwrap();
    let store = signed_in(120);
    let ic = Scripted::default();
    let clock = Fixed(Cell::new(NOW));

    let started = Instant::now();
    let token =
        block_on(auth(&store, &ic, &clock, Some(&locks)).access_token(&session(), None)).unwrap();

    assert_eq!(token.expose(), "current");
    assert_eq!(ic.count("Refresh"), 0, "the holder refreshes, not us");
    assert!(
        started.elapsed() < REFRESH_LOCK_WAIT / 2,
        "waited {:?} for a lock it did not need",
        started.elapsed()
    );
}

#[test]
fn a_free_session_lock_refreshes_a_token_in_its_window() {
    let tmp = tempfile::tempdir().unwrap();
    let locks = Locks::new(tmp.path().join("locks"));
    let store = signed_in(120);
    let ic = Scripted::default();
    ic.refresh.borrow_mut().push_back(Ok(grant("refreshed")));
    let clock = Fixed(Cell::new(NOW));

    let token =
        block_on(auth(&store, &ic, &clock, Some(&locks)).access_token(&session(), None)).unwrap();

    assert_eq!(token.expose(), "refreshed");
}

#[test]
fn logout_deletes_every_item_of_the_session_without_a_state_file() {
    let store = signed_in(3600);
    store::save_role(
        &store,
        "corp",
        "111122223333",
        "Developer",
        &role_item(&role_creds()),
    )
    .unwrap();
    store::save_role(
        &store,
        "corp",
        "444455556666",
        "Admin",
        &role_item(&role_creds()),
    )
    .unwrap();
    store::save_role(
        &store,
        "other",
        "444455556666",
        "Admin",
        &role_item(&role_creds()),
    )
    .unwrap();
    let ic = Scripted::default();
    let clock = Fixed(Cell::new(NOW));

    block_on(auth(&store, &ic, &clock, None).logout("corp")).unwrap();

    assert_eq!(ic.count("Logout"), 1);
    assert_eq!(
        store.names(),
        [crate::store::ItemName::role(
            "other",
            "444455556666",
            "Admin"
        )]
    );
}

#[test]
fn secret_bearing_types_redact_their_debug() {
    const SENTINEL: &str = "SENTINEL-auth-7d1e";
    let grant = TokenGrant {
        access_token: Secret::new(SENTINEL.into()),
        expires_in: 1,
        refresh_token: Some(Secret::new(SENTINEL.into())),
    };
    let mut device = device();
    device.device_code = Secret::new(SENTINEL.into());
    let reg = ClientRegistration {
        client_secret: Secret::new(SENTINEL.into()),
        ..registration("x", &[])
    };
    let err = AuthError::LoginRequired {
        session: "corp".into(),
        command: "keyless login --sso-session corp".into(),
    };
    for shown in [
        format!("{grant:?}"),
        format!("{device:?}"),
        format!("{reg:?}"),
        format!("{err:?}"),
        err.to_string(),
    ] {
        assert!(!shown.contains(SENTINEL), "{shown}");
    }
}

#[test]
fn a_code_login_registers_for_the_code_grant_and_sends_the_exact_redirect_uri() {
    let ic = Scripted::default();
    ic.register
        .borrow_mut()
        .push_back(Ok(registration("device-reg", &["sso:account:access"])));
    ic.register
        .borrow_mut()
        .push_back(Ok(registration("code-reg", &["sso:account:access"])));
    ic.create.borrow_mut().push_back(Ok(grant("device-token")));
    ic.start.borrow_mut().push_back(Ok(device()));
    ic.code.borrow_mut().push_back(Ok(grant("code-token")));
    let store = MemoryStore::new();
    let clock = Fixed(Cell::new(NOW));
    let auth = auth(&store, &ic, &clock, None);
    // A device registration first: the code login must not reuse it.
    block_on(auth.login(&session(), &mut NoUi, false)).unwrap();
    let url = Rc::new(RefCell::new(String::new()));
    let browser = Browser {
        answer: Ok("the-code"),
        url: Rc::clone(&url),
    };
    let token =
        block_on(auth.login_with_code(&session(), browser, "http://oidc.test", false)).unwrap();
    assert_eq!(token.access_token.expose(), "code-token");
    assert_eq!(ic.count("RegisterClientForCode"), 1);
    let url = url.borrow().clone();
    assert!(
        url.starts_with("http://oidc.test/authorize?response_type=code&client_id=code-reg&"),
        "{url}"
    );
    assert!(url.contains("code_challenge_method=S256"), "{url}");
    assert!(
        url.contains("redirect_uri=http%3A%2F%2F127.0.0.1%3A4242%2Foauth%2Fcallback"),
        "{url}"
    );
    let (code, verifier, redirect) = ic.code_args.borrow()[0].clone();
    assert_eq!(code, "the-code");
    assert_eq!(redirect, "http://127.0.0.1:4242/oauth/callback");
    let challenge = pkce::challenge(&Secret::new(verifier));
    assert!(
        url.contains(&format!("code_challenge={challenge}")),
        "{url}"
    );
    assert_eq!(
        store::load_token(&store, "corp")
            .unwrap()
            .unwrap()
            .access_token
            .expose(),
        "code-token"
    );
    // The next code login reuses the code registration.
    ic.code.borrow_mut().push_back(Ok(grant("code-token-2")));
    let browser = Browser {
        answer: Ok("code-2"),
        url: Rc::new(RefCell::new(String::new())),
    };
    block_on(auth.login_with_code(&session(), browser, "http://oidc.test", false)).unwrap();
    assert_eq!(ic.count("RegisterClientForCode"), 1);
}

#[test]
fn a_denied_code_login_saves_nothing_and_says_why() {
    let ic = Scripted::default();
    ic.register
        .borrow_mut()
        .push_back(Ok(registration("code-reg", &["sso:account:access"])));
    let store = MemoryStore::new();
    let clock = Fixed(Cell::new(NOW));
    let auth = auth(&store, &ic, &clock, None);
    let browser = Browser {
        answer: Err(|| PkceError::Denied {
            error: "access_denied".into(),
            description: None,
        }),
        url: Rc::new(RefCell::new(String::new())),
    };
    let err =
        block_on(auth.login_with_code(&session(), browser, "http://oidc.test", false)).unwrap_err();
    assert!(err.to_string().contains("denied"), "{err}");
    assert_eq!(ic.count("CreateTokenWithCode"), 0);
    assert!(store::load_token(&store, "corp").unwrap().is_none());
}
