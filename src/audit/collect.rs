//! Collection: what each account's IAM says, with bounded concurrency
//! across accounts and a bounded time per account. An account that fails
//! is an [`AccountInput`] with its error; the others go on.

use std::future::Future;
use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_iam::config::Credentials;
use futures_util::StreamExt;

use super::{AccountData, AccountInput, report};
use crate::aws::iam::Iam;

pub const DEFAULT_CONCURRENCY: usize = 16;
pub const DEFAULT_ACCOUNT_TIMEOUT: Duration = Duration::from_secs(300);

/// Audits every account: `credentials(account)` gives the credentials to
/// enter it with (`None`: those of `config`). `done` is called as each
/// account finishes (for a progress bar). Results are in input order.
pub async fn collect<F, Fut>(
    config: &SdkConfig,
    accounts: Vec<String>,
    concurrency: usize,
    per_account: Duration,
    credentials: F,
    mut done: impl FnMut(&AccountInput),
) -> Vec<AccountInput>
where
    F: Fn(String) -> Fut,
    Fut: Future<Output = Result<Option<Credentials>, String>>,
{
    let credentials = &credentials;
    let mut results: Vec<(usize, AccountInput)> =
        futures_util::stream::iter(accounts.into_iter().enumerate())
            .map(|(index, account_id)| async move {
                let work = async {
                    let creds = credentials(account_id.clone()).await?;
                    account(config, creds).await
                };
                let result = match tokio::time::timeout(per_account, work).await {
                    Ok(result) => result,
                    Err(_) => Err(format!(
                        "not finished within {} s (more time: --account-timeout SECS)",
                        per_account.as_secs()
                    )),
                };
                (index, AccountInput { account_id, result })
            })
            .buffer_unordered(concurrency.max(1))
            .inspect(|(_, input)| done(input))
            .collect()
            .await;
    results.sort_by_key(|(index, _)| *index);
    results.into_iter().map(|(_, input)| input).collect()
}

/// One account: the credential report, the authorization details, and the
/// access keys of every user.
async fn account(config: &SdkConfig, creds: Option<Credentials>) -> Result<AccountData, String> {
    let iam = Iam::new(config, creds);
    let fetched = iam.credential_report().await.map_err(|e| e.to_string())?;
    let rows = report::parse(&fetched.csv)
        .map_err(|e| format!("the credential report could not be read: {e}"))?;
    let authorization = iam.authorization().await.map_err(|e| e.to_string())?;
    let mut keys = Vec::new();
    // Every user: the report may be up to four hours old, and keys made
    // since are not in it.
    for user in &authorization.users {
        keys.extend(
            iam.access_keys(&user.name)
                .await
                .map_err(|e| e.to_string())?,
        );
    }
    Ok(AccountData {
        report: rows,
        report_generated_at: fetched.generated_at,
        keys: Some(keys),
        authorization: Some(authorization),
    })
}
