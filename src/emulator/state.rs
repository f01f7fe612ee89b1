//! The emulator's memory: registrations, device authorizations, tokens,
//! injected faults, statistics and the emulated clock.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::config::{EmulatorConfig, PollAnswer};
use super::error::{ApiError, ErrorKind};
use super::issue::IssuedSecret;
use crate::secret::Secret;

/// Which API an operation belongs to; it decides the error body shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Service {
    Oidc,
    Portal,
}

/// The AWS operations the emulator serves, named as in the service models.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Operation {
    RegisterClient,
    StartDeviceAuthorization,
    CreateToken,
    GetRoleCredentials,
    ListAccounts,
    ListAccountRoles,
    Logout,
}

impl Operation {
    pub const ALL: [Operation; 7] = [
        Operation::RegisterClient,
        Operation::StartDeviceAuthorization,
        Operation::CreateToken,
        Operation::GetRoleCredentials,
        Operation::ListAccounts,
        Operation::ListAccountRoles,
        Operation::Logout,
    ];

    pub fn service(self) -> Service {
        match self {
            Operation::RegisterClient
            | Operation::StartDeviceAuthorization
            | Operation::CreateToken => Service::Oidc,
            _ => Service::Portal,
        }
    }
}

/// What an injected fault does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum FaultKind {
    /// HTTP 500 InternalServerException.
    Internal,
    /// HTTP 429 TooManyRequestsException.
    Throttle,
    /// HTTP 401: UnauthorizedException on the portal, InvalidClientException on OIDC.
    Unauthorized,
    /// Waits `latencyMs` before answering normally.
    Latency,
    /// Answers with the exception named in `error`.
    Error,
}

/// A fault for the next `count` calls of an operation (of every operation
/// when `operation` is absent; of CreateToken calls with that grant type
/// only when `grantType` is given).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Fault {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<Operation>,
    pub kind: FaultKind,
    #[serde(default = "one")]
    pub count: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_type: Option<String>,
    /// Applies to every Nth matching call only (the Nth, the 2Nth, …):
    /// `{"kind": "throttle", "operation": "ListAccountRoles", "every": 10,
    /// "count": 1000}` throttles 10% of the calls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub every: Option<u32>,
    /// Matching calls seen, for `every`.
    #[serde(skip)]
    pub seen: u32,
}

fn one() -> u32 {
    1
}

impl Fault {
    #[cfg(test)]
    fn of(operation: Operation, kind: FaultKind) -> Self {
        Fault {
            operation: Some(operation),
            kind,
            count: 1,
            error: None,
            latency_ms: None,
            grant_type: None,
            every: None,
            seen: 0,
        }
    }

    #[cfg(test)]
    pub fn internal(operation: Operation) -> Self {
        Fault::of(operation, FaultKind::Internal)
    }

    #[cfg(test)]
    pub fn throttle(operation: Operation) -> Self {
        Fault::of(operation, FaultKind::Throttle)
    }

    #[cfg(test)]
    pub fn unauthorized(operation: Operation) -> Self {
        Fault::of(operation, FaultKind::Unauthorized)
    }

    #[cfg(test)]
    pub fn latency(operation: Operation, millis: u64) -> Self {
        Fault {
            latency_ms: Some(millis),
            ..Fault::of(operation, FaultKind::Latency)
        }
    }

    #[cfg(test)]
    pub fn error(operation: Operation, error: ErrorKind) -> Self {
        Fault {
            error: Some(error),
            ..Fault::of(operation, FaultKind::Error)
        }
    }

    /// Applies to the next `count` matching calls.
    #[cfg(test)]
    pub fn times(self, count: u32) -> Self {
        Fault { count, ..self }
    }

    /// Applies only to CreateToken calls with this `grantType`.
    #[cfg(test)]
    pub fn for_grant(self, grant_type: &str) -> Self {
        Fault {
            grant_type: Some(grant_type.to_string()),
            ..self
        }
    }

    pub fn validate(&self) -> Result<(), String> {
        match (self.kind, self.error, self.latency_ms) {
            (FaultKind::Error, None, _) => Err("a fault of kind 'error' needs 'error'".into()),
            (FaultKind::Latency, _, None) => {
                Err("a fault of kind 'latency' needs 'latencyMs'".into())
            }
            _ if self.count == 0 => Err("a fault needs a count of at least 1".into()),
            _ if self.every == Some(0) => Err("'every' must be at least 1".into()),
            _ => Ok(()),
        }
    }

    fn matches(&self, operation: Operation, grant_type: Option<&str>) -> bool {
        self.operation.is_none_or(|op| op == operation)
            && self
                .grant_type
                .as_deref()
                .is_none_or(|wanted| grant_type == Some(wanted))
    }

    fn error_for(&self, operation: Operation) -> Option<ErrorKind> {
        match self.kind {
            FaultKind::Internal => Some(ErrorKind::InternalServer),
            FaultKind::Throttle => Some(ErrorKind::TooManyRequests),
            FaultKind::Unauthorized => Some(match operation.service() {
                Service::Oidc => ErrorKind::InvalidClient,
                Service::Portal => ErrorKind::Unauthorized,
            }),
            FaultKind::Error => self.error,
            FaultKind::Latency => None,
        }
    }
}

/// Calls of one operation, by outcome.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationStats {
    pub calls: u64,
    pub ok: u64,
    /// Exception name → count.
    pub errors: BTreeMap<String, u64>,
}

/// What `/_keyless/stats` returns.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    pub operations: BTreeMap<Operation, OperationStats>,
    pub registrations: usize,
    pub device_authorizations: usize,
    pub access_tokens: usize,
    pub refresh_tokens: usize,
    pub pending_faults: usize,
}

impl Stats {
    /// Calls of `operation` so far.
    pub fn calls(&self, operation: Operation) -> u64 {
        self.operations.get(&operation).map_or(0, |s| s.calls)
    }

    /// Answers of `operation` with the exception `name` so far.
    #[cfg(test)]
    pub fn errors(&self, operation: Operation, name: &str) -> u64 {
        self.operations
            .get(&operation)
            .and_then(|s| s.errors.get(name))
            .copied()
            .unwrap_or(0)
    }
}

#[derive(Debug)]
pub struct Registration {
    pub secret: Secret<String>,
    pub expires_at_s: i64,
    pub scopes: Vec<String>,
    /// `None` when the client registered without `grantTypes`.
    pub grant_types: Option<Vec<String>>,
    pub redirect_uris: Vec<String>,
}

/// An authorization code handed to a client's redirect URI by `/authorize`.
#[derive(Debug)]
pub struct AuthorizationCode {
    pub client_id: String,
    /// Exactly as sent to `/authorize`; CreateToken must repeat it.
    pub redirect_uri: String,
    pub challenge: String,
    /// `code_challenge_method=S256` (otherwise `plain`).
    pub s256: bool,
    pub expires_at_ms: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceState {
    Pending,
    Approved,
    Denied,
    /// Tokens were issued; the device code cannot be used again.
    Used,
}

#[derive(Debug)]
pub struct DeviceAuthorization {
    pub client_id: String,
    pub user_code: String,
    pub expires_at_ms: i64,
    pub state: DeviceState,
    pub polls: u32,
    pub script: VecDeque<PollAnswer>,
    /// When the last poll came, in emulated epoch-ms.
    pub last_poll_ms: Option<i64>,
    /// The interval this device code requires, raised by each SlowDown.
    pub interval_ms: i64,
}

#[derive(Debug)]
pub struct AccessRecord {
    pub session: u64,
    pub expires_at_ms: i64,
}

#[derive(Debug)]
pub struct RefreshRecord {
    pub client_id: String,
    pub session: u64,
}

/// Everything mutable, behind one lock held only for the length of a call.
#[derive(Debug)]
pub struct Inner {
    pub config: EmulatorConfig,
    initial_config: EmulatorConfig,
    account_index: HashMap<String, usize>,
    clock_offset_ms: i64,
    pub registrations: HashMap<String, Registration>,
    pub devices: HashMap<String, DeviceAuthorization>,
    pub authorization_codes: HashMap<String, AuthorizationCode>,
    pub access_tokens: HashMap<IssuedSecret, AccessRecord>,
    pub refresh_tokens: HashMap<IssuedSecret, RefreshRecord>,
    next_session: u64,
    faults: Vec<Fault>,
    stats: BTreeMap<Operation, OperationStats>,
}

/// How long expired device codes are remembered, so late polls still get
/// ExpiredTokenException rather than InvalidGrantException.
const EXPIRED_DEVICE_GRACE_MS: i64 = 3600 * 1000;

impl Inner {
    pub fn new(config: EmulatorConfig) -> Self {
        let account_index = index_accounts(&config);
        Inner {
            initial_config: config.clone(),
            config,
            account_index,
            clock_offset_ms: 0,
            registrations: HashMap::new(),
            devices: HashMap::new(),
            authorization_codes: HashMap::new(),
            access_tokens: HashMap::new(),
            refresh_tokens: HashMap::new(),
            next_session: 1,
            faults: Vec::new(),
            stats: BTreeMap::new(),
        }
    }

    /// Forgets everything issued, the faults, the statistics and the clock
    /// offset, and restores the configuration given at start.
    pub fn reset(&mut self) {
        *self = Inner::new(self.initial_config.clone());
    }

    /// The emulated time, in epoch-ms.
    pub fn now_ms(&self) -> i64 {
        let real = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        real.saturating_add(self.clock_offset_ms)
    }

    pub fn now_s(&self) -> i64 {
        self.now_ms().div_euclid(1000)
    }

    pub fn advance_clock(&mut self, secs: i64) -> i64 {
        self.clock_offset_ms = self
            .clock_offset_ms
            .saturating_add(secs.saturating_mul(1000));
        self.now_ms()
    }

    pub fn set_config(&mut self, config: EmulatorConfig) {
        self.account_index = index_accounts(&config);
        self.config = config;
    }

    pub fn account_position(&self, account_id: &str) -> Option<usize> {
        self.account_index.get(account_id).copied()
    }

    pub fn new_session(&mut self) -> u64 {
        let session = self.next_session;
        self.next_session += 1;
        session
    }

    pub fn add_fault(&mut self, fault: Fault) -> Result<(), String> {
        fault.validate()?;
        self.faults.push(fault);
        Ok(())
    }

    pub fn faults(&self) -> &[Fault] {
        &self.faults
    }

    pub fn clear_faults(&mut self) {
        self.faults.clear();
    }

    /// Takes one use of the first matching latency fault and of the first
    /// matching error fault.
    pub fn take_faults(
        &mut self,
        operation: Operation,
        grant_type: Option<&str>,
    ) -> (Option<u64>, Option<ErrorKind>) {
        let latency = self.take_first(operation, grant_type, |f| {
            (f.kind == FaultKind::Latency)
                .then_some(f.latency_ms)
                .flatten()
        });
        let error = self.take_first(operation, grant_type, |f| f.error_for(operation));
        (latency, error)
    }

    fn take_first<T>(
        &mut self,
        operation: Operation,
        grant_type: Option<&str>,
        effect: impl Fn(&Fault) -> Option<T>,
    ) -> Option<T> {
        let mut found = None;
        for (index, fault) in self.faults.iter_mut().enumerate() {
            if !fault.matches(operation, grant_type) || effect(fault).is_none() {
                continue;
            }
            if let Some(every) = fault.every {
                fault.seen += 1;
                if fault.seen % every != 0 {
                    continue;
                }
            }
            found = Some(index);
            break;
        }
        let index = found?;
        let value = effect(&self.faults[index]);
        let fault = &mut self.faults[index];
        fault.count = fault.count.saturating_sub(1);
        if fault.count == 0 {
            self.faults.remove(index);
        }
        value
    }

    pub fn record(&mut self, operation: Operation, outcome: Result<(), &ApiError>) {
        let stats = self.stats.entry(operation).or_default();
        stats.calls += 1;
        match outcome {
            Ok(()) => stats.ok += 1,
            Err(error) => {
                *stats
                    .errors
                    .entry(error.kind.name().to_string())
                    .or_default() += 1
            }
        }
    }

    pub fn stats(&self) -> Stats {
        let mut operations = BTreeMap::new();
        for op in Operation::ALL {
            operations.insert(op, self.stats.get(&op).cloned().unwrap_or_default());
        }
        Stats {
            operations,
            registrations: self.registrations.len(),
            device_authorizations: self.devices.len(),
            access_tokens: self.access_tokens.len(),
            refresh_tokens: self.refresh_tokens.len(),
            pending_faults: self.faults.len(),
        }
    }

    /// Drops expired access tokens and long-expired device codes, so a
    /// server left running does not grow without bound.
    pub fn prune(&mut self) {
        let now = self.now_ms();
        self.access_tokens.retain(|_, t| t.expires_at_ms > now);
        self.devices
            .retain(|_, d| d.expires_at_ms.saturating_add(EXPIRED_DEVICE_GRACE_MS) > now);
        self.authorization_codes
            .retain(|_, c| c.expires_at_ms.saturating_add(EXPIRED_DEVICE_GRACE_MS) > now);
    }

    /// Ends a session: its access and refresh tokens stop working.
    pub fn end_session(&mut self, session: u64) {
        self.access_tokens.retain(|_, t| t.session != session);
        self.refresh_tokens.retain(|_, t| t.session != session);
    }

    /// Marks the device authorization with this user code approved or
    /// denied; false if there is none pending.
    pub fn decide_user_code(&mut self, user_code: &str, approve: bool) -> bool {
        let now = self.now_ms();
        let wanted = normalize_user_code(user_code);
        match self.devices.values_mut().find(|d| {
            d.user_code == wanted && d.state == DeviceState::Pending && d.expires_at_ms > now
        }) {
            Some(device) => {
                device.state = if approve {
                    DeviceState::Approved
                } else {
                    DeviceState::Denied
                };
                true
            }
            None => false,
        }
    }
}

/// Upper-case, and a dash after the fourth character if it was left out.
pub fn normalize_user_code(user_code: &str) -> String {
    let compact: String = user_code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if compact.len() == 8 {
        format!("{}-{}", &compact[..4], &compact[4..])
    } else {
        compact
    }
}

fn index_accounts(config: &EmulatorConfig) -> HashMap<String, usize> {
    config
        .accounts
        .iter()
        .enumerate()
        .map(|(i, a)| (a.account_id.clone(), i))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_are_used_in_order_and_counted_down() {
        let mut inner = Inner::new(EmulatorConfig::default());
        inner
            .add_fault(Fault::internal(Operation::ListAccounts).times(2))
            .unwrap();
        inner
            .add_fault(Fault::latency(Operation::ListAccounts, 5))
            .unwrap();
        assert_eq!(
            inner.take_faults(Operation::ListAccounts, None),
            (Some(5), Some(ErrorKind::InternalServer))
        );
        assert_eq!(
            inner.take_faults(Operation::GetRoleCredentials, None),
            (None, None)
        );
        assert_eq!(
            inner.take_faults(Operation::ListAccounts, None),
            (None, Some(ErrorKind::InternalServer))
        );
        assert_eq!(
            inner.take_faults(Operation::ListAccounts, None),
            (None, None)
        );
        assert!(inner.faults().is_empty());
    }

    #[test]
    fn an_every_fault_hits_every_nth_matching_call() {
        let mut inner = Inner::new(EmulatorConfig::default());
        let fault = Fault {
            every: Some(3),
            ..Fault::throttle(Operation::ListAccountRoles).times(2)
        };
        inner.add_fault(fault).unwrap();
        let hits: Vec<bool> = (0..9)
            .map(|_| {
                inner
                    .take_faults(Operation::ListAccountRoles, None)
                    .1
                    .is_some()
            })
            .collect();
        assert_eq!(
            hits,
            [false, false, true, false, false, true, false, false, false]
        );
        assert!(inner.faults().is_empty());
    }

    #[test]
    fn grant_filtered_fault_waits_for_its_grant() {
        let mut inner = Inner::new(EmulatorConfig::default());
        inner
            .add_fault(
                Fault::error(Operation::CreateToken, ErrorKind::InvalidGrant)
                    .for_grant("refresh_token"),
            )
            .unwrap();
        let device = Some("urn:ietf:params:oauth:grant-type:device_code");
        assert_eq!(
            inner.take_faults(Operation::CreateToken, device),
            (None, None)
        );
        assert_eq!(
            inner.take_faults(Operation::CreateToken, Some("refresh_token")),
            (None, Some(ErrorKind::InvalidGrant))
        );
    }

    #[test]
    fn unauthorized_fault_depends_on_the_service() {
        let mut inner = Inner::new(EmulatorConfig::default());
        let any = Fault {
            operation: None,
            ..Fault::unauthorized(Operation::Logout).times(2)
        };
        inner.add_fault(any).unwrap();
        assert_eq!(
            inner.take_faults(Operation::CreateToken, None).1,
            Some(ErrorKind::InvalidClient)
        );
        assert_eq!(
            inner.take_faults(Operation::ListAccounts, None).1,
            Some(ErrorKind::Unauthorized)
        );
    }

    #[test]
    fn invalid_faults_are_refused() {
        let mut inner = Inner::new(EmulatorConfig::default());
        let no_error = Fault {
            error: None,
            ..Fault::error(Operation::Logout, ErrorKind::Forbidden)
        };
        assert!(inner.add_fault(no_error).is_err());
        assert!(
            inner
                .add_fault(Fault::internal(Operation::Logout).times(0))
                .is_err()
        );
        assert!(inner.faults().is_empty());
    }

    #[test]
    fn user_codes_are_normalized() {
        assert_eq!(normalize_user_code("abcd-efgh"), "ABCD-EFGH");
        assert_eq!(normalize_user_code("ABCDEFGH"), "ABCD-EFGH");
        assert_eq!(normalize_user_code(" <x> "), "X");
        assert_eq!(normalize_user_code(""), "");
    }

    #[test]
    fn clock_advances() {
        let mut inner = Inner::new(EmulatorConfig::default());
        let before = inner.now_ms();
        let after = inner.advance_clock(3600);
        assert!(after - before >= 3_600_000 && after - before < 3_700_000);
        inner.reset();
        assert!(inner.now_ms() - before < 100_000);
    }

    #[test]
    fn debug_of_state_never_shows_issued_secrets() {
        use super::super::issue;
        let mut inner = Inner::new(EmulatorConfig::default());
        inner.registrations.insert(
            "cid".into(),
            Registration {
                secret: issue::client_secret("SENTINELabc"),
                expires_at_s: 0,
                scopes: vec![],
                grant_types: None,
                redirect_uris: vec![],
            },
        );
        inner.access_tokens.insert(
            IssuedSecret::new(issue::access_token("SENTINELabc")),
            AccessRecord {
                session: 1,
                expires_at_ms: 0,
            },
        );
        inner.refresh_tokens.insert(
            IssuedSecret::new(issue::refresh_token("SENTINELabc")),
            RefreshRecord {
                client_id: "cid".into(),
                session: 1,
            },
        );
        let shown = format!("{inner:?}");
        assert!(shown.contains("cid"));
        assert!(!shown.contains("SENTINELabc"));
    }
}
