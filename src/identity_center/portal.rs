//! The SSO portal: role credentials, account and role discovery, logout
//! (IDENTITY-CENTER.md §2).

use super::{ApiError, Clients};
use crate::credentials::Credentials;
use crate::secret::Secret;

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Account {
    pub account_id: String,
    pub account_name: String,
    pub email: String,
}

impl Clients {
    /// `GetRoleCredentials`. The result is not validated here: callers
    /// validate before handing it out.
    pub async fn role_credentials(
        &self,
        access_token: &Secret<String>,
        account_id: &str,
        role_name: &str,
    ) -> Result<Credentials, ApiError> {
        const OP: &str = "GetRoleCredentials";
        let out = self
            .portal
            .get_role_credentials()
            .access_token(access_token.expose())
            .account_id(account_id)
            .role_name(role_name)
            .send()
            .await
            .map_err(|e| ApiError::from_sdk(OP, e))?;
        let creds = out
            .role_credentials
            .ok_or_else(|| ApiError::malformed(OP, "no roleCredentials in the response"))?;
        Ok(Credentials {
            access_key_id: creds.access_key_id.unwrap_or_default(),
            secret_access_key: Secret::new(creds.secret_access_key.unwrap_or_default()),
            session_token: Secret::new(creds.session_token.unwrap_or_default()),
            // epoch-ms on the wire
            expiration: creds.expiration.div_euclid(1000),
            account_id: Some(account_id.to_string()),
        })
    }

    /// Every account the token can see, all pages.
    pub async fn accounts(&self, access_token: &Secret<String>) -> Result<Vec<Account>, ApiError> {
        const OP: &str = "ListAccounts";
        let mut pages = self
            .portal
            .list_accounts()
            .access_token(access_token.expose())
            .max_results(100)
            .into_paginator()
            .send();
        let mut accounts = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| ApiError::from_sdk(OP, e))?;
            for a in page.account_list.unwrap_or_default() {
                accounts.push(Account {
                    account_id: a.account_id.unwrap_or_default(),
                    account_name: a.account_name.unwrap_or_default(),
                    email: a.email_address.unwrap_or_default(),
                });
            }
        }
        Ok(accounts)
    }

    /// Every role the token may assume in `account_id`, all pages.
    pub async fn roles(
        &self,
        access_token: &Secret<String>,
        account_id: &str,
    ) -> Result<Vec<String>, ApiError> {
        const OP: &str = "ListAccountRoles";
        let mut pages = self
            .portal
            .list_account_roles()
            .access_token(access_token.expose())
            .account_id(account_id)
            .max_results(100)
            .into_paginator()
            .send();
        let mut roles = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| ApiError::from_sdk(OP, e))?;
            roles.extend(
                page.role_list
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|r| r.role_name),
            );
        }
        Ok(roles)
    }

    /// `Logout`: ends the portal session of the token.
    pub async fn logout(&self, access_token: &Secret<String>) -> Result<(), ApiError> {
        self.portal
            .logout()
            .access_token(access_token.expose())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| ApiError::from_sdk("Logout", e))
    }
}
