//! IAM: the credential report, access keys and authorization details.

use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_iam::config::{Credentials, SharedCredentialsProvider};
use aws_sdk_iam::types::{EntityType, ReportStateType, StatusType};
use time::OffsetDateTime;

use super::AwsError;
use crate::audit::AccessKey;
use crate::audit::policy::{Authorization, GroupDetail, UserDetail};

/// How soon to ask again whether the credential report is ready; the wait
/// doubles up to [`REPORT_POLL_MAX`].
pub const REPORT_POLL_FIRST: Duration = Duration::from_millis(250);
pub const REPORT_POLL_MAX: Duration = Duration::from_secs(2);

/// A credential report as fetched.
#[derive(Debug, Clone)]
pub struct CredentialReport {
    pub csv: String,
    pub generated_at: Option<OffsetDateTime>,
}

/// The last use of an access key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyLastUsed {
    pub at: OffsetDateTime,
    pub service: Option<String>,
    pub region: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Iam {
    client: aws_sdk_iam::Client,
}

impl Iam {
    /// A client with the shared configuration's credentials, or with
    /// `credentials` (an assumed role, role credentials of a portal).
    pub fn new(config: &SdkConfig, credentials: Option<Credentials>) -> Iam {
        let mut builder = aws_sdk_iam::config::Builder::from(config);
        if let Some(credentials) = credentials {
            builder = builder.credentials_provider(SharedCredentialsProvider::new(credentials));
        }
        Iam {
            client: aws_sdk_iam::Client::from_conf(builder.build()),
        }
    }

    /// `GenerateCredentialReport` until it is `COMPLETE`, then
    /// `GetCredentialReport`. The caller bounds the total time.
    pub async fn credential_report(&self) -> Result<CredentialReport, AwsError> {
        let mut wait = REPORT_POLL_FIRST;
        loop {
            let out = self
                .client
                .generate_credential_report()
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("GenerateCredentialReport", e))?;
            if out.state() == Some(&ReportStateType::Complete) {
                break;
            }
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(REPORT_POLL_MAX);
        }
        const OP: &str = "GetCredentialReport";
        let out = self
            .client
            .get_credential_report()
            .send()
            .await
            .map_err(|e| AwsError::from_sdk(OP, e))?;
        let content = out
            .content()
            .ok_or_else(|| AwsError::other(OP, "the answer has no report"))?;
        let csv = String::from_utf8(content.as_ref().to_vec())
            .map_err(|_| AwsError::other(OP, "the report is not UTF-8 text"))?;
        Ok(CredentialReport {
            csv,
            generated_at: out.generated_time().and_then(to_time),
        })
    }

    /// `ListAccessKeys` for one user, all pages.
    pub async fn access_keys(&self, user: &str) -> Result<Vec<AccessKey>, AwsError> {
        let mut pages = self
            .client
            .list_access_keys()
            .user_name(user)
            .into_paginator()
            .send();
        let mut keys = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| AwsError::from_sdk("ListAccessKeys", e))?;
            for k in page.access_key_metadata() {
                keys.push(AccessKey {
                    user: k.user_name().unwrap_or(user).to_string(),
                    key_id: k.access_key_id().unwrap_or_default().to_string(),
                    active: k.status() == Some(&StatusType::Active),
                    created: k.create_date().and_then(to_time),
                });
            }
        }
        Ok(keys)
    }

    /// `GetAccessKeyLastUsed`: when, by which service, in which region;
    /// `None` when the key was never used (or not since April 2015).
    pub async fn key_last_used(&self, key_id: &str) -> Result<Option<KeyLastUsed>, AwsError> {
        let out = self
            .client
            .get_access_key_last_used()
            .access_key_id(key_id)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("GetAccessKeyLastUsed", e))?;
        let Some(used) = out.access_key_last_used() else {
            return Ok(None);
        };
        let known = |s: &str| (!s.is_empty() && s != "N/A").then(|| s.to_string());
        Ok(used
            .last_used_date()
            .and_then(to_time)
            .map(|at| KeyLastUsed {
                at,
                service: known(used.service_name()),
                region: known(used.region()),
            }))
    }

    /// `UpdateAccessKey`: sets `key_id` of `user` Active or Inactive.
    pub async fn set_key_active(
        &self,
        user: &str,
        key_id: &str,
        active: bool,
    ) -> Result<(), AwsError> {
        let status = if active {
            StatusType::Active
        } else {
            StatusType::Inactive
        };
        self.client
            .update_access_key()
            .user_name(user)
            .access_key_id(key_id)
            .status(status)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| AwsError::from_sdk("UpdateAccessKey", e))
    }

    /// `GetAccountAuthorizationDetails` for users, groups and
    /// customer-managed policies (the default version of each), all pages.
    pub async fn authorization(&self) -> Result<Authorization, AwsError> {
        let mut pages = self
            .client
            .get_account_authorization_details()
            .filter(EntityType::User)
            .filter(EntityType::Group)
            .filter(EntityType::LocalManagedPolicy)
            .into_paginator()
            .send();
        let mut auth = Authorization::default();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| AwsError::from_sdk("GetAccountAuthorizationDetails", e))?;
            for u in page.user_detail_list() {
                auth.users.push(UserDetail {
                    name: u.user_name().unwrap_or_default().to_string(),
                    path: u.path().unwrap_or("/").to_string(),
                    groups: u.group_list().to_vec(),
                    attached_policy_arns: u
                        .attached_managed_policies()
                        .iter()
                        .filter_map(|p| p.policy_arn().map(str::to_string))
                        .collect(),
                    inline_documents: u
                        .user_policy_list()
                        .iter()
                        .filter_map(|p| p.policy_document().map(str::to_string))
                        .collect(),
                });
            }
            for g in page.group_detail_list() {
                auth.groups.insert(
                    g.group_name().unwrap_or_default().to_string(),
                    GroupDetail {
                        attached_policy_arns: g
                            .attached_managed_policies()
                            .iter()
                            .filter_map(|p| p.policy_arn().map(str::to_string))
                            .collect(),
                        inline_documents: g
                            .group_policy_list()
                            .iter()
                            .filter_map(|p| p.policy_document().map(str::to_string))
                            .collect(),
                    },
                );
            }
            for p in page.policies() {
                let default = p
                    .policy_version_list()
                    .iter()
                    .find(|v| v.is_default_version())
                    .and_then(|v| v.document());
                if let (Some(arn), Some(doc)) = (p.arn(), default) {
                    auth.policies.insert(arn.to_string(), doc.to_string());
                }
            }
        }
        Ok(auth)
    }
}

fn to_time(t: &aws_smithy_types::DateTime) -> Option<OffsetDateTime> {
    let nanos = i128::from(t.secs()) * 1_000_000_000 + i128::from(t.subsec_nanos());
    OffsetDateTime::from_unix_timestamp_nanos(nanos).ok()
}
