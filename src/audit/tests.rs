use time::macros::datetime;

use super::policy::{GroupDetail, UserDetail};
use super::*;

const ACCOUNT: &str = "111111111111";
const HEADER: &str = "user,arn,user_creation_time,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date";

/// A planted account, as of 2026-12-01:
/// - alice: one key from 2026-01-01, never used (over age, unused)
/// - bob: keys from 2026-01-01 (used 2026-11-20) and 2026-10-01 (a failed
///   rotation; the older key over age)
/// - carol: a key from 2026-11-20 (new)
/// - svc under /keyless-exempt/: an old key (exempt only)
/// - dave: an inactive key only (nothing)
/// - erin: a key from 2026-09-15 used 2026-11-30 (fine, unless departed)
/// - the root user: an active key (root-key)
fn report_text() -> String {
    let row = |user: &str, path: &str, k1: &str, k2: &str| {
        format!(
            "{user},arn:aws:iam::{ACCOUNT}:user{path}{user},2025-01-01T00:00:00+00:00,{k1},{k2}"
        )
    };
    [
        HEADER.to_string(),
        format!(
            "<root_account>,arn:aws:iam::{ACCOUNT}:root,2020-01-01T00:00:00+00:00,TRUE,2020-01-01T00:00:00+00:00,2026-05-01T00:00:00+00:00,FALSE,N/A,N/A"
        ),
        row("alice", "/", "true,2026-01-01T00:00:00+00:00,N/A", "false,N/A,N/A"),
        row(
            "bob",
            "/",
            "true,2026-01-01T00:00:00+00:00,2026-11-20T00:00:00+00:00",
            "true,2026-10-01T00:00:00+00:00,2026-11-30T00:00:00+00:00",
        ),
        row("carol", "/", "true,2026-11-20T00:00:00+00:00,N/A", "false,N/A,N/A"),
        row(
            "svc",
            "/keyless-exempt/",
            "true,2025-01-01T00:00:00+00:00,no_information",
            "false,N/A,N/A",
        ),
        row("dave", "/", "false,2025-01-01T00:00:00+00:00,N/A", "false,N/A,N/A"),
        row(
            "erin",
            "/",
            "true,2026-09-15T00:00:00+00:00,2026-11-30T00:00:00+00:00",
            "false,N/A,N/A",
        ),
    ]
    .join("\n")
}

fn offline() -> AccountInput {
    AccountInput {
        account_id: ACCOUNT.into(),
        result: Ok(AccountData {
            report: report::parse(&report_text()).unwrap(),
            ..Default::default()
        }),
    }
}

fn key(user: &str, id: &str, active: bool, created: OffsetDateTime) -> AccessKey {
    AccessKey {
        user: user.into(),
        key_id: id.into(),
        active,
        created: Some(created),
    }
}

fn user(name: &str, path: &str, groups: &[&str]) -> UserDetail {
    UserDetail {
        name: name.into(),
        path: path.into(),
        groups: groups.iter().map(|g| g.to_string()).collect(),
        ..Default::default()
    }
}

/// The same account with API data: key IDs, and alice in a group with
/// AdministratorAccess; svc with an inline `*:*` policy (still exempt).
fn online() -> AccountInput {
    let mut auth = Authorization::default();
    auth.groups.insert(
        "admins".into(),
        GroupDetail {
            attached_policy_arns: vec!["arn:aws:iam::aws:policy/AdministratorAccess".into()],
            ..Default::default()
        },
    );
    auth.users = vec![
        user("alice", "/", &["admins"]),
        user("bob", "/", &[]),
        user("carol", "/", &[]),
        UserDetail {
            inline_documents: vec![
                r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#.into(),
            ],
            ..user("svc", "/keyless-exempt/", &[])
        },
        user("dave", "/", &[]),
        user("erin", "/", &[]),
    ];
    let keys = vec![
        key("alice", "AKIAALICE1", true, datetime!(2026-01-01 00:00 UTC)),
        key("bob", "AKIABOB2", true, datetime!(2026-10-01 00:00 UTC)),
        key("bob", "AKIABOB1", true, datetime!(2026-01-01 00:00 UTC)),
        key("carol", "AKIACAROL1", true, datetime!(2026-11-20 00:00 UTC)),
        key("svc", "AKIASVC1", true, datetime!(2025-01-01 00:00 UTC)),
        key("dave", "AKIADAVE1", false, datetime!(2025-01-01 00:00 UTC)),
        key("erin", "AKIAERIN1", true, datetime!(2026-09-15 00:00 UTC)),
    ];
    AccountInput {
        account_id: ACCOUNT.into(),
        result: Ok(AccountData {
            report: report::parse(&report_text()).unwrap(),
            report_generated_at: Some(datetime!(2026-12-01 10:00 UTC)),
            keys: Some(keys),
            authorization: Some(auth),
        }),
    }
}

fn options() -> Options {
    Options::new(datetime!(2026-12-01 12:00 UTC))
}

const RUN: OffsetDateTime = datetime!(2026-12-01 12:30 UTC);

fn summary(snap: &Snapshot) -> Vec<(Kind, String, Option<u8>, Option<String>)> {
    snap.findings
        .iter()
        .map(|f| (f.kind, f.user.clone(), f.key_slot, f.key_id.clone()))
        .collect()
}

#[test]
fn offline_findings_match_the_planted_truth() {
    let snap = evaluate(&[offline()], &options(), RUN);
    use Kind::*;
    let mut got: Vec<_> = summary(&snap)
        .into_iter()
        .map(|(k, u, s, id)| {
            assert_eq!(id, None, "the report has no key IDs");
            (k, u, s)
        })
        .collect();
    got.sort();
    let mut want = vec![
        (RootKey, "<root_account>".to_string(), Some(1)),
        (KeyOverMaxAge, "alice".into(), Some(1)),
        (KeyUnused, "alice".into(), Some(1)),
        (KeyOverMaxAge, "bob".into(), Some(1)),
        (FailedRotation, "bob".into(), Some(1)),
        (NewKey, "carol".into(), Some(1)),
        (Exempt, "svc".into(), Some(1)),
    ];
    want.sort();
    assert_eq!(got, want);
    assert_eq!(
        snap.metrics,
        Metrics {
            active_keys: 6,
            keys_over_max_age: 2,
            unused_keys: 1,
            users_with_admin_keys: 0,
            failed_rotations: 1,
            root_keys: 1,
            new_keys: 1,
            departed_owner_keys: 0,
            exempt_keys: 1,
        }
    );
    let not: Vec<_> = snap.not_evaluated.iter().map(|n| n.kind).collect();
    assert_eq!(not, [AdminUserKey, DepartedOwner]);
    assert_eq!(snap.failing_findings(), 5);
    // Most severe first within the account.
    assert_eq!(snap.findings[0].kind, RootKey);
}

#[test]
fn api_data_adds_key_ids_and_admins() {
    let snap = evaluate(&[online()], &options(), RUN);
    let got = summary(&snap);
    let admin: Vec<_> = got.iter().filter(|f| f.0 == Kind::AdminUserKey).collect();
    assert_eq!(
        admin,
        [&(Kind::AdminUserKey, "alice".to_string(), None, None)],
        "svc is exempt even with *:*"
    );
    let rotation = got.iter().find(|f| f.0 == Kind::FailedRotation).unwrap();
    assert_eq!(rotation.3.as_deref(), Some("AKIABOB1"), "the older key");
    assert_eq!(rotation.2, Some(1), "matched to its report slot");
    let unused = got.iter().find(|f| f.0 == Kind::KeyUnused).unwrap();
    assert_eq!(unused.3.as_deref(), Some("AKIAALICE1"));
    assert_eq!(snap.metrics.users_with_admin_keys, 1);
    assert_eq!(snap.metrics.active_keys, 6);
    let offline = evaluate(&[offline()], &options(), RUN);
    let strip = |s: &Snapshot| {
        let mut v: Vec<_> = s
            .findings
            .iter()
            .filter(|f| !f.kind.info().needs_api)
            .map(|f| (f.kind, f.user.clone(), f.key_slot))
            .collect();
        v.sort();
        v
    };
    assert_eq!(strip(&snap), strip(&offline));
    assert!(
        snap.not_evaluated
            .iter()
            .all(|n| n.kind != Kind::AdminUserKey)
    );
    let alice = snap
        .findings
        .iter()
        .find(|f| f.kind == Kind::AdminUserKey)
        .unwrap();
    assert!(alice.message.contains("group admins"), "{}", alice.message);
}

#[test]
fn keys_deleted_since_the_report_are_gone() {
    let mut input = online();
    if let Ok(data) = &mut input.result {
        data.keys
            .as_mut()
            .unwrap()
            .retain(|k| k.key_id != "AKIABOB1");
    }
    let snap = evaluate(&[input], &options(), RUN);
    assert!(snap.findings.iter().all(|f| f.user != "bob"));
    assert_eq!(snap.metrics.active_keys, 5);
}

#[test]
fn departed_owners_with_people() {
    let mut opts = options();
    opts.people = Some(People::parse(
        "# staff\nalice\nBob@Example.com\n\ncarol  # contractor\n",
    ));
    let snap = evaluate(&[online()], &opts, RUN);
    let departed: Vec<_> = snap
        .findings
        .iter()
        .filter(|f| f.kind == Kind::DepartedOwner)
        .map(|f| (f.user.as_str(), f.key_id.as_deref()))
        .collect();
    assert_eq!(departed, [("erin", Some("AKIAERIN1"))]);
    assert_eq!(snap.metrics.departed_owner_keys, 1);
    assert!(snap.not_evaluated.is_empty());
}

#[test]
fn people_of_an_identity_store() {
    // User names and e-mails as ListUsers gives them: a user matches a
    // name, an e-mail, or an e-mail's local part.
    let people = People::from_entries([
        "Alice.Smith",
        "alice.smith@example.com",
        "rob",
        "Bob@Example.com",
        " ",
    ]);
    for here in [
        "alice.smith",
        "ALICE.SMITH@example.com",
        "bob",
        "bob@example.com",
    ] {
        assert!(people.contains(here), "{here}");
    }
    for gone in ["alice", "robert", "example.com", ""] {
        assert!(!people.contains(gone), "{gone}");
    }
    assert!(People::from_entries([" ", ""]).is_empty());
    let mut opts = options();
    opts.people = Some(People::from_entries([
        "alice", "bob", "carol", "dave", "erin",
    ]));
    let snap = evaluate(&[online()], &opts, RUN);
    assert_eq!(snap.metrics.departed_owner_keys, 0);
    assert!(snap.not_evaluated.is_empty());
}

#[test]
fn thresholds_and_the_clock_move_findings() {
    let mut opts = options();
    opts.as_of = datetime!(2027-03-01 00:00 UTC);
    let snap = evaluate(&[online()], &opts, RUN);
    // Every active key is now over 90 days old, and none was used in the
    // last 90 days (the latest use, 2026-11-30, is 91 days back).
    assert_eq!(snap.metrics.keys_over_max_age, 5);
    assert_eq!(snap.metrics.new_keys, 0);
    assert_eq!(snap.metrics.unused_keys, 5);
    opts.max_age_days = 1000;
    opts.max_unused_days = 1000;
    let snap = evaluate(&[online()], &opts, RUN);
    assert_eq!(snap.metrics.keys_over_max_age, 0);
    assert_eq!(snap.metrics.unused_keys, 0);
    assert_eq!(snap.metrics.failed_rotations, 1, "used after the newer key");
}

#[test]
fn exempt_paths_are_normalized() {
    assert_eq!(normalize_path("keyless-exempt"), "/keyless-exempt/");
    assert_eq!(normalize_path("/a/b"), "/a/b/");
    assert_eq!(normalize_path("/"), "/");
    let mut opts = options();
    opts.exempt_paths = vec!["none".into()];
    let snap = evaluate(&[offline()], &opts, RUN);
    assert_eq!(snap.metrics.exempt_keys, 0);
    assert_eq!(snap.metrics.keys_over_max_age, 3);
}

#[test]
fn failed_accounts_are_reported_and_the_rest_audited() {
    let failed = AccountInput {
        account_id: "222222222222".into(),
        result: Err("AssumeRole: AccessDenied (HTTP 403)".into()),
    };
    let snap = evaluate(&[failed, online()], &options(), RUN);
    assert_eq!(snap.errors(), 1);
    assert_eq!(snap.accounts[0].status, Status::Error);
    assert_eq!(snap.accounts[1].status, Status::Ok);
    assert_eq!(snap.metrics.active_keys, 6);
}

#[test]
fn json_contract_fields() {
    let snap = evaluate(&[online()], &options(), RUN);
    let mut out = Vec::new();
    render::json(&mut out, &snap, None).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["generated_at"], "2026-12-01T12:30:00Z");
    let account = &v["accounts"][0];
    assert_eq!(account["account_id"], ACCOUNT);
    assert_eq!(account["status"], "ok");
    assert!(account["error"].is_null());
    assert_eq!(account["report_generated_at"], "2026-12-01T10:00:00Z");
    for field in [
        "active_keys",
        "keys_over_max_age",
        "unused_keys",
        "users_with_admin_keys",
        "failed_rotations",
        "root_keys",
        "new_keys",
        "departed_owner_keys",
        "exempt_keys",
    ] {
        assert!(v["metrics"][field].is_u64(), "{field}");
    }
    let kinds: std::collections::BTreeSet<_> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            for field in ["severity", "account_id", "user", "message", "fix"] {
                assert!(f[field].is_string(), "{field} in {f}");
            }
            assert!(f["key_id"].is_string() || f["key_id"].is_null());
            f["kind"].as_str().unwrap().to_string()
        })
        .collect();
    assert!(kinds.contains("admin-user-key") && kinds.contains("root-key"));
    let admin = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "admin-user-key")
        .unwrap();
    assert!(admin["key_id"].is_null());
    assert_eq!(admin["severity"], "high");
    // A snapshot reads back as a baseline.
    let base = render::Baseline::parse(std::str::from_utf8(&out).unwrap()).unwrap();
    assert_eq!(base.metrics, snap.metrics);
}

#[test]
fn baseline_deltas() {
    let before = evaluate(&[online()], &options(), RUN);
    let mut input = online();
    if let Ok(data) = &mut input.result {
        data.keys
            .as_mut()
            .unwrap()
            .retain(|k| k.user != "alice" && k.key_id != "AKIABOB1");
    }
    let after = evaluate(&[input], &options(), RUN);
    let base = render::Baseline {
        generated_at: before.generated_at,
        metrics: before.metrics,
    };
    let d = render::deltas(&base.metrics, &after.metrics);
    let get = |m: &str| d.iter().find(|d| d.metric == m).unwrap().delta;
    assert_eq!(get("active_keys"), -2);
    assert_eq!(get("keys_over_max_age"), -2);
    assert_eq!(get("unused_keys"), -1);
    assert_eq!(get("users_with_admin_keys"), -1);
    assert_eq!(get("failed_rotations"), -1);
    assert_eq!(get("root_keys"), 0);

    let mut text = Vec::new();
    render::text(&mut text, &after, Some(&base)).unwrap();
    let text = String::from_utf8(text).unwrap();
    assert!(text.contains("before 2026-12-01"), "{text}");
    let line = text
        .lines()
        .find(|l| l.starts_with("users with admin access keys"))
        .unwrap();
    assert!(line.ends_with("-1"), "{line}");

    let mut json = Vec::new();
    render::json(&mut json, &after, Some(&base)).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(v["baseline"]["delta"]["active_keys"], -2);
    assert_eq!(v["baseline"]["metrics"]["active_keys"], 6);
}

#[test]
fn text_and_csv_renderings() {
    let failed = AccountInput {
        account_id: "222222222222".into(),
        result: Err("AssumeRole: AccessDenied (HTTP 403)".into()),
    };
    let snap = evaluate(&[online(), failed], &options(), RUN);
    let mut text = Vec::new();
    render::text(&mut text, &snap, None).unwrap();
    let text = String::from_utf8(text).unwrap();
    assert!(
        text.contains("2 account(s) (1 audited, 1 could not be)"),
        "{text}"
    );
    assert!(text.contains("access keys older than the age limit"));
    assert!(text.contains("2 (33%)"), "{text}");
    assert!(text.contains("account 222222222222: could not be audited: AssumeRole"));
    assert!(text.contains("HIGH     admin-user-key   alice"));

    let mut csv = Vec::new();
    render::csv(&mut csv, &snap, None).unwrap();
    let csv = String::from_utf8(csv).unwrap();
    let lines: Vec<_> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "account_id,kind,severity,user,key_id,key_slot,message,fix"
    );
    assert_eq!(lines.len(), 1 + 1 + snap.findings.len());
    assert!(lines[1].starts_with("222222222222,error,"));
    let rows = report_rows_of(&csv);
    assert!(rows.iter().all(|r| r.len() == 8), "{rows:?}");
}

/// Reads the CSV back with the report's own parser's rules.
fn report_rows_of(csv: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for line in csv.lines() {
        let mut fields = vec![String::new()];
        let mut quoted = false;
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '"' if quoted && chars.peek() == Some(&'"') => {
                    chars.next();
                    fields.last_mut().unwrap().push('"');
                }
                '"' => quoted = !quoted,
                ',' if !quoted => fields.push(String::new()),
                _ => fields.last_mut().unwrap().push(c),
            }
        }
        rows.push(fields);
    }
    rows
}
