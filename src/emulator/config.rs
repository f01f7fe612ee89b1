//! What the emulator serves and how it behaves: accounts, lifetimes, the
//! approval of device codes, and the shape of what it issues.

use serde::{Deserialize, Deserializer, Serialize};

/// Lifetime of an access token in seconds (8 hours, as the AWS CLI tests use).
pub const DEFAULT_ACCESS_TOKEN_TTL_SECS: u64 = 8 * 3600;
/// Lifetime of role credentials in seconds (1 hour).
pub const DEFAULT_ROLE_CREDENTIAL_TTL_SECS: u64 = 3600;
/// Lifetime of a client registration in seconds (90 days, as observed on AWS).
pub const DEFAULT_REGISTRATION_TTL_SECS: u64 = 90 * 24 * 3600;
/// `expiresIn` of a device authorization in seconds.
pub const DEFAULT_DEVICE_CODE_TTL_SECS: u64 = 600;
/// `interval` of a device authorization in seconds.
pub const DEFAULT_POLL_INTERVAL_SECS: u64 = 1;
/// The interval clients assume when `interval` is absent (the AWS CLI's).
pub const CLIENT_DEFAULT_INTERVAL_SECS: u64 = 5;
/// What each SlowDownException adds to the interval (RFC 8628 §3.5).
pub const SLOW_DOWN_STEP_SECS: u64 = 5;
/// Page size of ListAccounts and ListAccountRoles when `max_result` is absent.
pub const DEFAULT_PAGE_SIZE: usize = 20;
/// The largest `max_result` the portal accepts.
pub const MAX_PAGE_SIZE: usize = 100;
/// Embedded in every secret the emulator issues unless configured otherwise.
pub const DEFAULT_SECRET_MARKER: &str = "KEYLESSDEV";

/// Everything the emulator can be told. `Default` serves three accounts with
/// a few roles each, approves a device code on its second poll, issues
/// refresh tokens to scoped registrations and rotates them on use.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EmulatorConfig {
    /// Accounts and their roles, in the order ListAccounts returns them.
    #[serde(skip)]
    pub accounts: Vec<Account>,
    /// How device codes are approved when no poll script entry is left.
    pub approval: Approval,
    /// Answers to the first CreateToken polls of every device authorization,
    /// in order; after the last one, `approval` decides.
    pub poll_script: Vec<PollAnswer>,
    pub access_token_ttl_secs: u64,
    pub refresh_tokens: RefreshTokens,
    pub refresh_rotation: RefreshRotation,
    pub role_credential_ttl_secs: u64,
    pub registration_ttl_secs: u64,
    /// `expiresIn` of device authorizations; the code expires after it.
    pub device_code_ttl_secs: u64,
    /// `interval` of device authorizations; `None` omits it from responses.
    pub poll_interval_secs: Option<u64>,
    /// Answer SlowDownException to a poll that comes sooner than the
    /// interval after the previous one (5 s when `interval` is omitted);
    /// every SlowDown adds 5 s to the interval of that device code.
    pub enforce_poll_interval: bool,
    /// First four characters of issued access key IDs (`ASIA`; `AKIA` makes
    /// the emulator hand out what looks like a long-lived key).
    pub access_key_prefix: String,
    /// Leave `sessionToken` out of GetRoleCredentials responses.
    pub omit_session_token: bool,
    /// Embedded literally in every access token, refresh token, client
    /// secret, secret access key and session token, so tests can search
    /// output for leaks. Up to 24 characters keep secret keys 40 long.
    pub secret_marker: String,
    /// Page size of the list operations when `max_result` is absent.
    pub default_page_size: usize,
    /// Mint role credentials with STS AssumeRole at this endpoint (a test
    /// server such as moto) instead of issuing them here.
    pub sts_endpoint: Option<String>,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            accounts: default_accounts(),
            approval: Approval::Auto { after_polls: 1 },
            poll_script: Vec::new(),
            access_token_ttl_secs: DEFAULT_ACCESS_TOKEN_TTL_SECS,
            refresh_tokens: RefreshTokens::WhenScoped,
            refresh_rotation: RefreshRotation::Rotate,
            role_credential_ttl_secs: DEFAULT_ROLE_CREDENTIAL_TTL_SECS,
            registration_ttl_secs: DEFAULT_REGISTRATION_TTL_SECS,
            device_code_ttl_secs: DEFAULT_DEVICE_CODE_TTL_SECS,
            poll_interval_secs: Some(DEFAULT_POLL_INTERVAL_SECS),
            enforce_poll_interval: false,
            access_key_prefix: "ASIA".to_string(),
            omit_session_token: false,
            secret_marker: DEFAULT_SECRET_MARKER.to_string(),
            default_page_size: DEFAULT_PAGE_SIZE,
            sts_endpoint: None,
        }
    }
}

impl EmulatorConfig {
    /// Checks the values a client could not work with; `ConfigPatch` and
    /// `start` call it.
    pub fn validate(&self) -> Result<(), String> {
        let prefix_ok = self.access_key_prefix.len() == 4
            && self
                .access_key_prefix
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
        if !prefix_ok {
            return Err(format!(
                "access key prefix '{}' must be four upper-case letters or digits, such as ASIA",
                self.access_key_prefix
            ));
        }
        if !(1..=MAX_PAGE_SIZE).contains(&self.default_page_size) {
            return Err(format!(
                "default page size {} must be between 1 and {MAX_PAGE_SIZE}",
                self.default_page_size
            ));
        }
        if !self
            .secret_marker
            .bytes()
            .all(|b| b.is_ascii_alphanumeric())
        {
            return Err("secret marker must be ASCII letters and digits only".to_string());
        }
        let mut seen = std::collections::HashSet::new();
        for account in &self.accounts {
            if !seen.insert(account.account_id.as_str()) {
                return Err(format!("account {} is listed twice", account.account_id));
            }
        }
        Ok(())
    }

    /// Applies the fields present in `patch`; on error nothing changes.
    pub fn apply(&mut self, patch: ConfigPatch) -> Result<(), String> {
        let mut next = self.clone();
        let ConfigPatch {
            accounts,
            approval,
            poll_script,
            access_token_ttl_secs,
            refresh_tokens,
            refresh_rotation,
            role_credential_ttl_secs,
            registration_ttl_secs,
            device_code_ttl_secs,
            poll_interval_secs,
            enforce_poll_interval,
            access_key_prefix,
            omit_session_token,
            secret_marker,
            default_page_size,
        } = patch;
        set(&mut next.accounts, accounts);
        set(&mut next.approval, approval);
        set(&mut next.poll_script, poll_script);
        set(&mut next.access_token_ttl_secs, access_token_ttl_secs);
        set(&mut next.refresh_tokens, refresh_tokens);
        set(&mut next.refresh_rotation, refresh_rotation);
        set(&mut next.role_credential_ttl_secs, role_credential_ttl_secs);
        set(&mut next.registration_ttl_secs, registration_ttl_secs);
        set(&mut next.device_code_ttl_secs, device_code_ttl_secs);
        set(&mut next.poll_interval_secs, poll_interval_secs);
        set(&mut next.enforce_poll_interval, enforce_poll_interval);
        set(&mut next.access_key_prefix, access_key_prefix);
        set(&mut next.omit_session_token, omit_session_token);
        set(&mut next.secret_marker, secret_marker);
        set(&mut next.default_page_size, default_page_size);
        next.validate()?;
        *self = next;
        Ok(())
    }
}

fn set<T>(field: &mut T, value: Option<T>) {
    if let Some(value) = value {
        *field = value;
    }
}

/// A change to the running emulator's configuration: every field is
/// optional, absent fields stay as they are. `pollIntervalSecs: null`
/// removes `interval` from device authorizations.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConfigPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accounts: Option<Vec<Account>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<Approval>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poll_script: Option<Vec<PollAnswer>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token_ttl_secs: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_tokens: Option<RefreshTokens>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_rotation: Option<RefreshRotation>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_credential_ttl_secs: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration_ttl_secs: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_code_ttl_secs: Option<u64>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub poll_interval_secs: Option<Option<u64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enforce_poll_interval: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_key_prefix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub omit_session_token: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_marker: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_page_size: Option<usize>,
}

/// A field that is present, even as `null`, is `Some`.
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// One AWS account with the roles the signed-in user may assume in it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Account {
    pub account_id: String,
    pub account_name: String,
    pub email_address: String,
    pub roles: Vec<String>,
}

impl Account {
    pub fn new(account_id: &str, account_name: &str, roles: &[&str]) -> Self {
        Account {
            account_id: account_id.to_string(),
            account_name: account_name.to_string(),
            email_address: format!("aws+{account_name}@example.com"),
            roles: roles.iter().map(|r| r.to_string()).collect(),
        }
    }
}

/// The default accounts: three, with different role sets.
pub fn default_accounts() -> Vec<Account> {
    vec![
        Account::new(
            "111122223333",
            "sandbox",
            &["AdministratorAccess", "Developer", "ReadOnly"],
        ),
        Account::new("444455556666", "staging", &["Developer", "ReadOnly"]),
        Account::new("777788889999", "production", &["ReadOnly"]),
    ]
}

/// `count` accounts named `account-0001`…, each with all of `roles`. The
/// 12-digit IDs are distinct and look random (a bijection of the index).
pub fn generate_accounts(count: usize, roles: &[&str]) -> Vec<Account> {
    (0..count)
        .map(|index| {
            Account::new(
                &generated_account_id(index),
                &format!("account-{:04}", index + 1),
                roles,
            )
        })
        .collect()
}

fn generated_account_id(index: usize) -> String {
    // 7_919_000_003 is coprime with 9 * 10^11, so distinct indexes below
    // that modulus map to distinct 12-digit IDs.
    const SPAN: u128 = 900_000_000_000;
    let mixed = (index as u128 * 7_919_000_003 + 111_111_111_111) % SPAN;
    format!("{:012}", mixed + 100_000_000_000)
}

/// How a device code is approved once its poll script, if any, is used up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "camelCase", deny_unknown_fields)]
pub enum Approval {
    /// Approved after this many CreateToken polls answered "pending"
    /// (0 = the first poll succeeds), or earlier through the device page.
    Auto {
        #[serde(rename = "afterPolls", default)]
        after_polls: u32,
    },
    /// Approved only by visiting the device page (or the control endpoint).
    Manual,
    /// Every device code is denied (AccessDeniedException).
    Deny,
}

/// A scripted answer to one CreateToken poll with a device code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum PollAnswer {
    /// AuthorizationPendingException
    Pending,
    /// SlowDownException
    #[serde(alias = "slow_down")]
    SlowDown,
    /// ExpiredTokenException
    Expired,
    /// AccessDeniedException
    Denied,
    /// Tokens are issued.
    Success,
}

/// When CreateToken issues a refresh token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum RefreshTokens {
    Always,
    /// Only to registrations made with scopes (sso-session logins).
    WhenScoped,
    Never,
}

/// What a refresh-token grant does with the refresh token it was given.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum RefreshRotation {
    /// A new refresh token is returned and the old one stops working.
    Rotate,
    /// No refresh token in the response; the old one keeps working.
    Omit,
    /// The same refresh token is returned again.
    Same,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_account_ids_are_distinct_twelve_digit_numbers() {
        let accounts = generate_accounts(5000, &["ReadOnly"]);
        let ids: std::collections::HashSet<_> =
            accounts.iter().map(|a| a.account_id.clone()).collect();
        assert_eq!(ids.len(), 5000);
        assert!(
            ids.iter()
                .all(|id| id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit()))
        );
        assert_eq!(accounts[41].account_name, "account-0042");
    }

    #[test]
    fn patch_changes_only_present_fields_and_null_interval_clears_it() {
        let mut config = EmulatorConfig::default();
        let patch: ConfigPatch =
            serde_json::from_str(r#"{"pollIntervalSecs":null,"approval":{"mode":"deny"}}"#)
                .unwrap();
        config.apply(patch).unwrap();
        assert_eq!(config.poll_interval_secs, None);
        assert_eq!(config.approval, Approval::Deny);
        assert_eq!(config.access_token_ttl_secs, DEFAULT_ACCESS_TOKEN_TTL_SECS);

        let patch: ConfigPatch = serde_json::from_str(r#"{"pollIntervalSecs":7}"#).unwrap();
        config.apply(patch).unwrap();
        assert_eq!(config.poll_interval_secs, Some(7));
    }

    #[test]
    fn invalid_patch_leaves_config_unchanged() {
        let mut config = EmulatorConfig::default();
        let before = config.clone();
        let patch = ConfigPatch {
            access_key_prefix: Some("asia".into()),
            device_code_ttl_secs: Some(5),
            ..ConfigPatch::default()
        };
        assert!(config.apply(patch).unwrap_err().contains("asia"));
        assert_eq!(config, before);
        assert!(serde_json::from_str::<ConfigPatch>(r#"{"noSuchField":1}"#).is_err());
    }

    #[test]
    fn poll_answers_accept_both_spellings_of_slow_down() {
        let answers: Vec<PollAnswer> =
            serde_json::from_str(r#"["pending","slowDown","slow_down","success"]"#).unwrap();
        assert_eq!(
            answers,
            [
                PollAnswer::Pending,
                PollAnswer::SlowDown,
                PollAnswer::SlowDown,
                PollAnswer::Success
            ]
        );
    }
}
