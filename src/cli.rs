//! Command-line types only: parsing, no behaviour.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::emulator;
use crate::scan::walk::DEFAULT_MAX_FILE_SIZE;

#[derive(Debug, Parser)]
#[command(
    name = "keyless",
    version,
    about = "Short-lived AWS credentials from IAM Identity Center, kept in the OS keyring",
    long_about = "keyless replaces long-lived AWS access keys with short-lived role credentials \
                  from IAM Identity Center. Credentials and tokens live only in the OS keyring."
)]
pub struct Cli {
    /// More detail on stderr (-v, -vv). Also KEYLESS_LOG=debug. Never shows a secret.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Sign in to an sso-session with the device-authorization flow.
    Login(LoginArgs),
    /// Print temporary role credentials for the AWS `credential_process` setting.
    CredentialProcess(CredentialProcessArgs),
    /// Sign out: end the portal session and delete its token and credentials.
    Logout(LogoutArgs),
    /// See the whole flow on this machine, with no AWS account: a local emulator, a real login, real credentials.
    Demo,
    /// Run a local IAM Identity Center emulator (OIDC + portal) on 127.0.0.1.
    DevServer(DevServerArgs),
    /// Find long-lived AWS access keys in the AWS files, the environment and the paths given.
    Scan(ScanArgs),
    /// Measure the long-lived access keys of many accounts: age, use, admin rights, failed rotations, root keys, departed owners.
    Audit(AuditArgs),
}

#[derive(Debug, Args)]
pub struct LoginArgs {
    /// The sso-session to sign in to (an [sso-session NAME] section).
    #[arg(long, conflicts_with = "profile")]
    pub sso_session: Option<String>,
    /// Sign in to the sso-session this profile uses (default: AWS_PROFILE, else "default").
    #[arg(long)]
    pub profile: Option<String>,
    /// Do not open a browser; print the URL and code only.
    #[arg(long)]
    pub no_browser: bool,
}

#[derive(Debug, Args)]
pub struct CredentialProcessArgs {
    /// The profile to get credentials for (default: AWS_PROFILE, else "default").
    #[arg(long, conflicts_with_all = ["sso_session", "account_id", "role_name"])]
    pub profile: Option<String>,
    /// With --account-id and --role-name: the sso-session to use, without a profile.
    #[arg(long, requires_all = ["account_id", "role_name"])]
    pub sso_session: Option<String>,
    /// The AWS account ID (12 digits).
    #[arg(long, requires_all = ["sso_session", "role_name"])]
    pub account_id: Option<String>,
    /// The permission set (role) name.
    #[arg(long, requires_all = ["sso_session", "account_id"])]
    pub role_name: Option<String>,
    /// Sign in through the browser when needed, instead of failing.
    #[arg(long)]
    pub auto_login: bool,
}

#[derive(Debug, Args)]
pub struct LogoutArgs {
    /// The sso-session to sign out of.
    #[arg(long, conflicts_with_all = ["profile", "all"])]
    pub sso_session: Option<String>,
    /// Sign out of the sso-session this profile uses.
    #[arg(long, conflicts_with = "all")]
    pub profile: Option<String>,
    /// Sign out of every sso-session keyless knows.
    #[arg(long)]
    pub all: bool,
}

/// The port `dev-server` listens on unless told otherwise.
pub const DEFAULT_PORT: u16 = 7788;

#[derive(Debug, Args)]
pub struct DevServerArgs {
    /// Port on 127.0.0.1 (0 picks a free one and prints it).
    #[arg(long, default_value_t = DEFAULT_PORT)]
    pub port: u16,

    /// Approve a device code after this many CreateToken polls (0: at once).
    #[arg(long, value_name = "N", default_value_t = 1, conflicts_with_all = ["deny", "manual"])]
    pub approve_after: u32,

    /// Approve device codes only on the browser page (verificationUri).
    #[arg(long, conflicts_with = "deny")]
    pub manual: bool,

    /// Deny every device code (AccessDeniedException).
    #[arg(long)]
    pub deny: bool,

    /// Number of generated accounts (default: three sample accounts).
    #[arg(long, value_name = "N")]
    pub accounts: Option<usize>,

    /// Role names assigned in every account, comma-separated.
    #[arg(long, value_name = "ROLE,…", value_delimiter = ',')]
    pub roles: Vec<String>,

    /// Access-token lifetime in seconds.
    #[arg(long, value_name = "SECS", default_value_t = emulator::DEFAULT_ACCESS_TOKEN_TTL_SECS)]
    pub token_ttl: u64,

    /// Role-credential lifetime in seconds.
    #[arg(long, value_name = "SECS", default_value_t = emulator::DEFAULT_ROLE_CREDENTIAL_TTL_SECS)]
    pub credential_ttl: u64,

    /// Client-registration lifetime in seconds.
    #[arg(long, value_name = "SECS", default_value_t = emulator::DEFAULT_REGISTRATION_TTL_SECS)]
    pub registration_ttl: u64,

    /// Device-code lifetime (`expiresIn`) in seconds.
    #[arg(long, value_name = "SECS", default_value_t = emulator::DEFAULT_DEVICE_CODE_TTL_SECS)]
    pub device_code_ttl: u64,

    /// Poll `interval` in seconds sent with device codes.
    #[arg(long, value_name = "SECS", default_value_t = emulator::DEFAULT_POLL_INTERVAL_SECS)]
    pub interval: u64,

    /// Leave `interval` out of device authorizations.
    #[arg(long)]
    pub no_interval: bool,

    /// Answer SlowDownException to polls that come sooner than the interval.
    #[arg(long)]
    pub enforce_interval: bool,

    /// Issue no refresh tokens.
    #[arg(long)]
    pub no_refresh_token: bool,

    /// What a refresh does with the refresh token.
    #[arg(long, value_enum, default_value_t = Rotation::Rotate)]
    pub refresh_rotation: Rotation,

    /// First four characters of issued access key IDs (AKIA imitates a long-lived key).
    #[arg(long, value_name = "PREFIX", default_value = "ASIA")]
    pub access_key_prefix: String,

    /// Leave the session token out of role credentials.
    #[arg(long)]
    pub omit_session_token: bool,

    /// Text embedded in every secret issued, to search logs for leaks.
    #[arg(long, value_name = "TEXT", default_value = emulator::DEFAULT_SECRET_MARKER)]
    pub marker: String,

    /// Mint role credentials with STS AssumeRole (arn:aws:iam::ACCOUNT:role/ROLE) at this
    /// endpoint, e.g. a local moto server, so that it accepts them for the right account.
    #[arg(long, value_name = "URL")]
    pub sts_endpoint: Option<String>,
}

/// `keyless audit --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuditFormat {
    /// The metrics table, then the findings grouped by account.
    Text,
    /// One JSON snapshot (the contract in docs/audit.md); also a baseline.
    Json,
    /// One finding a row, for spreadsheets.
    Csv,
}

/// Measure the long-lived IAM access keys of an organisation.
///
/// Accounts come from one of: the Identity Center portal (--sso-session S
/// --role-name R), AWS Organizations (--profile P --organization
/// --assume-role-name R), one profile's account (--profile P), or IAM
/// credential-report CSV files (--from-report FILE…, offline). Exit status:
/// 0 nothing over a threshold, 1 findings, 2 an account or file could not
/// be audited.
#[derive(Debug, Clone, Args)]
pub struct AuditArgs {
    /// Every account the signed-in user sees in this sso-session's portal.
    #[arg(long, requires = "role_name", conflicts_with_all = ["profile", "from_report"])]
    pub sso_session: Option<String>,
    /// With --sso-session: the role (permission set) to enter each account with, e.g. SecurityAudit.
    #[arg(long, requires = "sso_session")]
    pub role_name: Option<String>,

    /// The profile whose credentials are used (one account, or the organization's management account).
    #[arg(long, conflicts_with = "from_report")]
    pub profile: Option<String>,
    /// With --profile: every account of the organization (Organizations ListAccounts).
    #[arg(long, requires_all = ["profile", "assume_role_name"])]
    pub organization: bool,
    /// With --organization: the role assumed in each account (arn:aws:iam::ACCOUNT:role/NAME).
    #[arg(long, requires = "organization")]
    pub assume_role_name: Option<String>,

    /// IAM credential-report CSV files, audited offline.
    #[arg(long, value_name = "FILE", num_args = 1..)]
    pub from_report: Vec<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = AuditFormat::Text)]
    pub format: AuditFormat,
    /// A JSON snapshot of an earlier audit: show before, after and delta for each metric.
    #[arg(long, value_name = "OLD.json")]
    pub baseline: Option<PathBuf>,

    /// Active keys older than this many days are findings (Security Hub IAM.3).
    #[arg(long, value_name = "DAYS", default_value_t = crate::audit::DEFAULT_MAX_AGE_DAYS)]
    pub max_age: i64,
    /// Active keys unused (or never used) for this many days are findings (IAM.8).
    #[arg(long, value_name = "DAYS", default_value_t = crate::audit::DEFAULT_MAX_UNUSED_DAYS)]
    pub max_unused: i64,
    /// Users under this IAM path are documented exceptions (repeatable).
    #[arg(long, value_name = "PATH", default_values_t = [crate::audit::DEFAULT_EXEMPT_PATH.to_string()])]
    pub exempt_path: Vec<String>,
    /// The people still here, one user name or e-mail a line: keys of any other user are departed-owner findings.
    #[arg(long, value_name = "FILE")]
    pub people: Option<PathBuf>,
    /// Audit as of this date (YYYY-MM-DD or RFC 3339) instead of now: "what will be over 90 days next month?".
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<String>,

    /// Accounts audited at the same time.
    #[arg(long, value_name = "N", default_value_t = crate::audit::collect::DEFAULT_CONCURRENCY)]
    pub concurrency: usize,
    /// Give up on an account after this many seconds (it is reported, the rest goes on).
    #[arg(long, value_name = "SECS", default_value_t = crate::audit::collect::DEFAULT_ACCOUNT_TIMEOUT.as_secs())]
    pub account_timeout: u64,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum Rotation {
    /// A new refresh token each time; the old one stops working.
    Rotate,
    /// No refresh token in the answer; the old one keeps working.
    Omit,
    /// The same refresh token again.
    Same,
}

/// `keyless scan --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A table for people.
    Text,
    /// One JSON document (schema in docs/scan.md).
    Json,
    /// SARIF 2.1.0, for code-scanning tools.
    Sarif,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colour when stdout is a terminal and NO_COLOR is unset.
    Auto,
    Always,
    Never,
}

/// Find long-lived AWS keys (AKIA…) on this machine and explain each one.
///
/// Always reads the AWS credentials and config files (AWS_SHARED_CREDENTIALS_FILE,
/// AWS_CONFIG_FILE) and the environment; searches any PATH given as free-form
/// text. Never prints a secret. Exit status: 0 no long-lived key, 1 a long-lived
/// key found, 2 something could not be scanned.
#[derive(Debug, Clone, Args)]
pub struct ScanArgs {
    /// Files or directories to search too (dotfiles, .env files, shell history,
    /// project trees).
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// Do not check AWS_ACCESS_KEY_ID and friends in the environment.
    #[arg(long)]
    pub no_env: bool,

    /// Do not read the AWS credentials and config files.
    #[arg(long)]
    pub no_aws_files: bool,

    /// Search files that .gitignore, .ignore or git's exclude files leave out,
    /// and .git directories.
    #[arg(long)]
    pub no_ignore: bool,

    /// Follow symbolic links found inside directories (loops are detected).
    #[arg(short = 'L', long)]
    pub follow: bool,

    /// Skip files larger than this (suffixes K, M, G).
    #[arg(long, value_name = "SIZE", value_parser = parse_size, default_value = "64M")]
    pub max_file_size: u64,

    /// Worker threads for the directory walk (default: one per core).
    #[arg(short = 'j', long, value_name = "N")]
    pub threads: Option<usize>,

    /// When to colour the text output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,
}

impl Default for ScanArgs {
    fn default() -> Self {
        ScanArgs {
            paths: Vec::new(),
            format: Format::Text,
            no_env: false,
            no_aws_files: false,
            no_ignore: false,
            follow: false,
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            threads: None,
            color: ColorChoice::Auto,
        }
    }
}

/// `64M`, `1G`, `512K`, `1000`.
fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let (digits, multiplier) = match text.char_indices().last() {
        Some((i, 'k' | 'K')) => (&text[..i], 1u64 << 10),
        Some((i, 'm' | 'M')) => (&text[..i], 1 << 20),
        Some((i, 'g' | 'G')) => (&text[..i], 1 << 30),
        _ => (text, 1),
    };
    digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(multiplier))
        .ok_or_else(|| format!("'{text}' is not a size; write e.g. 64M, 512K or 1G"))
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("64M"), Ok(64 << 20));
        assert_eq!(parse_size("512k"), Ok(512 << 10));
        assert_eq!(parse_size("1G"), Ok(1 << 30));
        assert_eq!(parse_size("100"), Ok(100));
        assert!(parse_size("x").is_err());
        assert!(parse_size("").is_err());
        assert!(parse_size("99999999999999999G").is_err());
        assert!(parse_size("é").is_err());
    }
}
