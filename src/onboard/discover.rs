//! Discovery: every account (`ListAccounts`, all pages) and the roles in
//! each (`ListAccountRoles`, all pages), a bounded number of accounts at a
//! time. Throttling and server errors are retried with jittered
//! exponential backoff on top of the SDK's own retries, since a large
//! organisation makes thousands of calls in a row.

use std::time::Duration;

use futures_util::StreamExt;

use super::Discovered;
use crate::identity_center::{ApiError, ApiErrorKind, Clients};
use crate::secret::Secret;

/// Accounts whose roles are listed at once.
pub const CONCURRENCY: usize = 8;
/// Attempts per account beyond the SDK's own retries.
pub const ATTEMPTS: u32 = 8;
pub const FIRST_BACKOFF: Duration = Duration::from_millis(100);
pub const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// The accounts and roles `token` may use, sorted by account name and ID;
/// accounts without roles are left out. `progress(done, total)` is called
/// after each account.
pub async fn discover(
    clients: &Clients,
    token: &Secret<String>,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Vec<Discovered>, ApiError> {
    let accounts = retrying(|| clients.accounts(token)).await?;
    let total = accounts.len();
    progress(0, total);
    let mut results = futures_util::stream::iter(accounts.into_iter().map(|account| async move {
        let roles = retrying(|| clients.roles(token, &account.account_id)).await;
        (account, roles)
    }))
    .buffer_unordered(CONCURRENCY);
    let mut found = Vec::with_capacity(total);
    let mut done = 0;
    while let Some((account, roles)) = results.next().await {
        let mut roles = roles?;
        roles.sort();
        roles.dedup();
        done += 1;
        progress(done, total);
        if !roles.is_empty() {
            found.push(Discovered {
                account_id: account.account_id,
                account_name: account.account_name,
                roles,
            });
        }
    }
    found.sort_by(|a, b| (&a.account_name, &a.account_id).cmp(&(&b.account_name, &b.account_id)));
    Ok(found)
}

/// Whether another attempt may succeed.
fn transient(error: &ApiError) -> bool {
    matches!(
        error.kind,
        ApiErrorKind::Throttled | ApiErrorKind::Server { .. } | ApiErrorKind::Timeout
    )
}

async fn retrying<T, F, Fut>(mut call: F) -> Result<T, ApiError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ApiError>>,
{
    let mut wait = FIRST_BACKOFF;
    let mut attempt = 1;
    loop {
        match call().await {
            Err(e) if transient(&e) && attempt < ATTEMPTS => {
                // Full jitter: anywhere up to the current step.
                let millis = rand::random_range(0..=wait.as_millis() as u64);
                tokio::time::sleep(Duration::from_millis(millis)).await;
                wait = (wait * 2).min(MAX_BACKOFF);
                attempt += 1;
            }
            other => return other,
        }
    }
}
