//! Organizations: the member accounts.

use aws_config::SdkConfig;
use aws_sdk_organizations::types::{AccountState, AccountStatus};

use super::AwsError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgAccount {
    pub id: String,
    pub name: String,
}

/// Every active account of the organization, all pages (`ListAccounts`
/// must be called from the management account or a delegated
/// administrator).
pub async fn accounts(config: &SdkConfig) -> Result<Vec<OrgAccount>, AwsError> {
    let client = aws_sdk_organizations::Client::new(config);
    let mut pages = client.list_accounts().into_paginator().send();
    let mut accounts = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::from_sdk("ListAccounts", e))?;
        for a in page.accounts() {
            #[allow(deprecated)] // `Status` is what older servers send
            let active = match (a.state(), a.status()) {
                (Some(state), _) => *state == AccountState::Active,
                (None, Some(status)) => *status == AccountStatus::Active,
                (None, None) => true,
            };
            if let (true, Some(id)) = (active, a.id()) {
                accounts.push(OrgAccount {
                    id: id.to_string(),
                    name: a.name().unwrap_or_default().to_string(),
                });
            }
        }
    }
    Ok(accounts)
}
