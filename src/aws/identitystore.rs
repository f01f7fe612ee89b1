//! The IAM Identity Center identity store: who still works here.

use aws_config::SdkConfig;

use super::AwsError;

/// The user name and every e-mail address of each user of the identity
/// store `store_id` (`d-1234567890`), all pages of `ListUsers`.
pub async fn people(config: &SdkConfig, store_id: &str) -> Result<Vec<String>, AwsError> {
    let client = aws_sdk_identitystore::Client::new(config);
    let mut pages = client
        .list_users()
        .identity_store_id(store_id)
        .into_paginator()
        .send();
    let mut entries = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::from_sdk("ListUsers", e))?;
        for user in page.users() {
            entries.extend(user.user_name().map(str::to_string));
            entries.extend(
                user.emails()
                    .iter()
                    .filter_map(|e| e.value().map(str::to_string)),
            );
        }
    }
    Ok(entries)
}
