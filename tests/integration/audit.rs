//! `keyless audit` against a local moto server with a planted organisation
//! (tests/data/audit/plant.py): through Organizations + AssumeRole, through
//! the Identity Center route (the emulator minting role credentials with
//! AssumeRole at moto), from the credential-report CSVs alone, and against
//! a baseline after keys are deleted. No secret may appear anywhere.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::{Value, json};

use crate::harness::{Moto, Run, World};

const ROLE: &str = "SecurityAudit";
/// Everyone but grace: her key is a departed owner's.
const PEOPLE: &str = "alice\nbob@example.com\ncarol\nfrank\ndave\nerin\nheidi\n";

/// The day the audit is run "as of": 100 days from now, so that every
/// planted key is over the 90-day limits (moto cannot age keys).
fn as_of_in_100_days() -> String {
    let day = time::OffsetDateTime::now_utc() + time::Duration::days(100);
    format!(
        "{:04}-{:02}-{:02}",
        day.year(),
        u8::from(day.month()),
        day.day()
    )
}

struct Planted {
    json: Value,
    /// The three member accounts, in planting order (alpha, beta, gamma).
    accounts: Vec<String>,
}

impl Planted {
    fn keys(&self, account: &str, user: &str) -> Vec<String> {
        self.json["accounts"][account]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["name"] == user)
            .unwrap()["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k.as_str().unwrap().to_string())
            .collect()
    }
}

/// (kind, account, user, key ID) of every finding the planted set must
/// give as of 100 days from now, with API data. The failed rotation's key
/// is one of bob's two (created in the same second, either may be older).
fn truth(p: &Planted) -> BTreeSet<(String, String, String, Option<String>)> {
    let (a, b) = (&p.accounts[0], &p.accounts[1]);
    let mut set = BTreeSet::new();
    let mut add = |kind: &str, account: &str, user: &str, key: Option<String>| {
        set.insert((kind.to_string(), account.to_string(), user.to_string(), key));
    };
    for (account, user) in [
        (a, "alice"),
        (a, "bob"),
        (a, "carol"),
        (b, "frank"),
        (b, "grace"),
    ] {
        for key in p.keys(account, user) {
            add("key-over-max-age", account, user, Some(key.clone()));
            add("key-unused", account, user, Some(key));
        }
    }
    for (account, user) in [(a, "alice"), (a, "carol"), (b, "grace")] {
        add("admin-user-key", account, user, None);
    }
    add("failed-rotation", a, "bob", Some("BOB".into()));
    add(
        "departed-owner",
        b,
        "grace",
        Some(p.keys(b, "grace")[0].clone()),
    );
    add(
        "exempt",
        a,
        "svc-backup",
        Some(p.keys(a, "svc-backup")[0].clone()),
    );
    set
}

fn findings(
    snapshot: &Value,
    bob: &[String],
) -> BTreeSet<(String, String, String, Option<String>)> {
    snapshot["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            let kind = f["kind"].as_str().unwrap().to_string();
            let mut key = f["key_id"].as_str().map(str::to_string);
            if kind == "failed-rotation" && key.as_ref().is_some_and(|k| bob.contains(k)) {
                key = Some("BOB".into());
            }
            (
                kind,
                f["account_id"].as_str().unwrap().to_string(),
                f["user"].as_str().unwrap().to_string(),
                key,
            )
        })
        .collect()
}

fn expected_metrics() -> Value {
    json!({
        "active_keys": 7,
        "keys_over_max_age": 6,
        "unused_keys": 6,
        "users_with_admin_keys": 3,
        "failed_rotations": 1,
        "root_keys": 0,
        "new_keys": 0,
        "departed_owner_keys": 1,
        "exempt_keys": 1,
    })
}

fn snapshot(run: &Run) -> Value {
    serde_json::from_str(&run.stdout())
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", run.stdout(), run.stderr()))
}

fn statuses(snapshot: &Value) -> Vec<(String, String)> {
    snapshot["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["account_id"].as_str().unwrap().to_string(),
                a["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn planted_organisation_through_every_route() {
    let moto = Moto::start();
    let mut w = crate::world!("--sts-endpoint", moto.url.as_str());
    let dir = w.home.path().to_path_buf();
    let planted_path = dir.join("planted.json");
    let planted_arg = planted_path.to_str().unwrap();
    moto.python(&["plant", planted_arg]);
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(&planted_path).unwrap()).unwrap();
    let accounts: Vec<String> = json["accounts"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(accounts.len(), 3);
    // serde_json keeps keys sorted; recover planting order by who lives where.
    let find = |user: &str| {
        accounts
            .iter()
            .find(|a| {
                json["accounts"][a.as_str()]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|u| u["name"] == user)
            })
            .unwrap()
            .clone()
    };
    let p = Planted {
        accounts: vec![find("alice"), find("frank"), find("heidi")],
        json: json.clone(),
    };
    let bob = p.keys(&p.accounts[0], "bob");

    w.write_credentials("[mgmt]\naws_access_key_id = testing\naws_secret_access_key = testing\n");
    let mut config = crate::harness::standard_config();
    config.push_str("\n[profile mgmt]\nregion = us-east-1\n");
    w.write_config(&config);
    for var in [
        "AWS_ENDPOINT_URL_IAM",
        "AWS_ENDPOINT_URL_STS",
        "AWS_ENDPOINT_URL_ORGANIZATIONS",
    ] {
        w.extra_env.push((var.into(), moto.url.clone()));
    }
    w.extra_env
        .push(("AWS_EC2_METADATA_DISABLED".into(), "true".into()));
    let people = dir.join("people.txt");
    std::fs::write(&people, PEOPLE).unwrap();
    let people = people.to_str().unwrap();
    let as_of = as_of_in_100_days();
    let mut runs: Vec<Run> = Vec::new();
    let common = ["--as-of", as_of.as_str(), "--people", people];

    // 1. Organizations: ListAccounts, AssumeRole into each.
    let org_args = |extra: &[&str]| {
        let mut args = vec![
            "audit",
            "--profile",
            "mgmt",
            "--organization",
            "--assume-role-name",
            ROLE,
        ];
        args.extend(common);
        args.extend(extra);
        args.iter().map(|s| s.to_string()).collect::<Vec<_>>()
    };
    let run = |w: &World, args: &[String]| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        w.run(&args)
    };
    let org = run(&w, &org_args(&["--format", "json"]));
    org.failure(1);
    let org_snap = snapshot(&org);
    let mut listed: Vec<_> = statuses(&org_snap);
    listed.sort();
    let mut want: Vec<_> = p
        .accounts
        .iter()
        .chain([&"123456789012".to_string()])
        .map(|a| (a.clone(), "ok".to_string()))
        .collect();
    want.sort();
    assert_eq!(listed, want, "every account of the organization, audited");
    assert_eq!(findings(&org_snap, &bob), truth(&p));
    assert_eq!(org_snap["metrics"], expected_metrics());
    assert_eq!(org_snap["schema_version"], 1);
    for a in org_snap["accounts"].as_array().unwrap() {
        assert!(a["report_generated_at"].is_string(), "{a}");
    }
    let baseline = dir.join("baseline.json");
    std::fs::write(&baseline, org.stdout()).unwrap();
    runs.push(org);

    // The same as text: the metrics table, then findings by account.
    let text = run(&w, &org_args(&[]));
    text.failure(1);
    let out = text.stdout();
    assert!(
        out.contains("4 account(s) (4 audited, 0 could not be)"),
        "{out}"
    );
    let line = out
        .lines()
        .find(|l| l.starts_with("access keys older than the age limit"))
        .unwrap();
    assert!(line.trim_end().ends_with("6 (86%)"), "{line}");
    assert!(out.contains(&format!("account {}", p.accounts[0])));
    runs.push(text);

    // As CSV: one row per finding.
    let csv = run(&w, &org_args(&["--format", "csv"]));
    csv.failure(1);
    assert_eq!(csv.stdout().lines().count(), 1 + truth(&p).len());
    runs.push(csv);

    // Today (no --as-of): nothing is old yet, every key is new; admins,
    // the departed owner and the exception remain.
    let today = w.run(&[
        "audit",
        "--profile",
        "mgmt",
        "--organization",
        "--assume-role-name",
        ROLE,
        "--people",
        people,
        "--format",
        "json",
    ]);
    today.failure(1);
    let today_snap = snapshot(&today);
    assert_eq!(today_snap["metrics"]["new_keys"], 6);
    assert_eq!(today_snap["metrics"]["keys_over_max_age"], 0);
    assert_eq!(today_snap["metrics"]["unused_keys"], 0);
    assert_eq!(today_snap["metrics"]["failed_rotations"], 0);
    assert_eq!(today_snap["metrics"]["users_with_admin_keys"], 3);
    runs.push(today);

    // One profile: the management account alone, which has no users.
    let single = w.run(&["audit", "--profile", "mgmt", "--format", "json"]);
    single.success();
    assert_eq!(
        statuses(&snapshot(&single)),
        [("123456789012".to_string(), "ok".to_string())]
    );
    runs.push(single);

    // 2. Identity Center: the portal lists the three accounts and a fourth
    // where the role is not assigned; role credentials are minted by STS
    // AssumeRole at moto, so moto serves the right account to each.
    let mut portal_accounts: Vec<Value> = p
        .accounts
        .iter()
        .map(|a| json!({"accountId": a, "accountName": a, "emailAddress": "x@example.com", "roles": [ROLE]}))
        .collect();
    portal_accounts.push(json!({"accountId": "444444444444", "accountName": "locked", "emailAddress": "y@example.com", "roles": ["Developer"]}));
    w.emulator()
        .control("/_keyless/config", json!({"accounts": portal_accounts}));
    w.login();
    let mut sso_args = vec![
        "audit",
        "--sso-session",
        "corp",
        "--role-name",
        ROLE,
        "--format",
        "json",
    ];
    sso_args.extend(common);
    let sso = w.run(&sso_args);
    sso.failure(2);
    let sso_snap = snapshot(&sso);
    let locked: Vec<_> = sso_snap["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["status"] == "error")
        .collect();
    assert_eq!(locked.len(), 1, "{sso_snap}");
    assert_eq!(locked[0]["account_id"], "444444444444");
    assert!(
        locked[0]["error"].as_str().unwrap().contains(ROLE),
        "{}",
        locked[0]
    );
    assert!(
        sso.stderr().contains("account 444444444444"),
        "{}",
        sso.stderr()
    );
    assert_eq!(findings(&sso_snap, &bob), truth(&p));
    assert_eq!(sso_snap["metrics"], expected_metrics());
    assert_eq!(w.emulator().count("GetRoleCredentials"), 4);
    runs.push(sso);

    // 3. Offline, from the credential reports: the same findings without
    // key IDs, except admin-user-key, which needs API data and is named.
    let reports = dir.join("reports");
    std::fs::create_dir(&reports).unwrap();
    moto.python(&["reports", planted_arg, reports.to_str().unwrap()]);
    let mut files: Vec<String> = std::fs::read_dir(&reports)
        .unwrap()
        .map(|e| e.unwrap().path().to_str().unwrap().to_string())
        .collect();
    files.sort();
    let mut offline_args = vec!["audit", "--format", "json", "--from-report"];
    offline_args.extend(files.iter().map(String::as_str));
    offline_args.extend(common);
    let offline = w.run(&offline_args);
    offline.failure(1);
    let offline_snap = snapshot(&offline);
    let without_ids = |set: BTreeSet<(String, String, String, Option<String>)>| {
        set.into_iter()
            .filter(|f| f.0 != "admin-user-key")
            .map(|(k, a, u, _)| (k, a, u))
            .collect::<BTreeSet<_>>()
    };
    assert_eq!(
        without_ids(findings(&offline_snap, &bob)),
        without_ids(truth(&p))
    );
    assert!(
        offline_snap["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["key_id"].is_null())
    );
    assert_eq!(offline_snap["not_evaluated"][0]["kind"], "admin-user-key");
    assert!(
        offline.stderr().contains("not evaluated: admin-user-key"),
        "{}",
        offline.stderr()
    );
    let mut offline_metrics = expected_metrics();
    offline_metrics["users_with_admin_keys"] = json!(0);
    assert_eq!(offline_snap["metrics"], offline_metrics);
    runs.push(offline);

    // 4. Baseline: delete alice's key and one of bob's, audit again.
    let mut with_delete = p.json.clone();
    with_delete["delete"] = json!({ p.accounts[0].clone(): [
        ["alice", p.keys(&p.accounts[0], "alice")[0]],
        ["bob", bob[0]],
    ]});
    std::fs::write(&planted_path, with_delete.to_string()).unwrap();
    moto.python(&["delete", planted_arg]);
    let after = run(
        &w,
        &org_args(&["--format", "json", "--baseline", baseline.to_str().unwrap()]),
    );
    after.failure(1);
    let after_snap = snapshot(&after);
    assert_eq!(
        after_snap["baseline"]["delta"],
        json!({
            "active_keys": -2,
            "keys_over_max_age": -2,
            "unused_keys": -2,
            "users_with_admin_keys": -1,
            "failed_rotations": -1,
            "root_keys": 0,
            "new_keys": 0,
            "departed_owner_keys": 0,
            "exempt_keys": 0,
        })
    );
    assert_eq!(after_snap["baseline"]["metrics"], expected_metrics());
    runs.push(after);
    let after_text = run(&w, &org_args(&["--baseline", baseline.to_str().unwrap()]));
    let line = after_text
        .stdout()
        .lines()
        .find(|l| l.starts_with("users with admin access keys"))
        .map(str::to_string)
        .unwrap_or_default();
    assert!(line.trim_end().ends_with("-1"), "{}", after_text.stdout());
    runs.push(after_text);

    // 5. No secret of moto's (the planted users' keys, every assumed
    // role's secret key and session token) nor of the emulator's appears
    // in any output, log or file.
    let secrets = moto.secrets();
    assert!(
        secrets.len() > 10,
        "moto's state lists the secrets it issued: {}",
        secrets.len()
    );
    let files = w.files();
    for secret in secrets.iter().map(String::as_str).chain(["KEYLESSDEV"]) {
        for r in &runs {
            assert!(
                !r.stdout().contains(secret),
                "a secret in the stdout of {}",
                r.args
            );
            assert!(
                !r.stderr().contains(secret),
                "a secret in the stderr of {}",
                r.args
            );
        }
        for (path, bytes) in &files {
            if path == Path::new(&planted_path) {
                continue;
            }
            assert!(
                !String::from_utf8_lossy(bytes).contains(secret),
                "a secret in {}",
                path.display()
            );
        }
    }
}

#[test]
fn aws_style_report_with_a_root_key() {
    let w = World::bare();
    let csv = w.home.path().join("report.csv");
    std::fs::write(
        &csv,
        "user,arn,user_creation_time,password_enabled,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date\n\
         <root_account>,arn:aws:iam::555555555555:root,2020-01-01T00:00:00+00:00,not_supported,TRUE,2020-01-01T00:00:00+00:00,2026-05-01T00:00:00+00:00,FALSE,N/A,N/A\n\
         ops,arn:aws:iam::555555555555:user/ops,2020-01-01T00:00:00+00:00,TRUE,FALSE,N/A,N/A,FALSE,N/A,N/A\n",
    )
    .unwrap();
    let run = w.run(&[
        "audit",
        "--from-report",
        csv.to_str().unwrap(),
        "--as-of",
        "2026-12-01",
        "--format",
        "json",
    ]);
    run.failure(1);
    let snap = snapshot(&run);
    assert_eq!(snap["metrics"]["root_keys"], 1);
    assert_eq!(snap["metrics"]["active_keys"], 0);
    assert_eq!(snap["findings"][0]["kind"], "root-key");
    assert_eq!(snap["findings"][0]["severity"], "critical");
    assert_eq!(snap["accounts"][0]["account_id"], "555555555555");

    // A clean report passes; a broken one cannot be audited.
    std::fs::write(
        &csv,
        "user,arn,access_key_1_active\nops,arn:aws:iam::555555555555:user/ops,false\n",
    )
    .unwrap();
    w.run(&["audit", "--from-report", csv.to_str().unwrap()])
        .success();
    std::fs::write(&csv, "not,a,report\n").unwrap();
    let broken = w.run(&["audit", "--from-report", csv.to_str().unwrap()]);
    broken.failure(2);
    assert!(
        broken.stderr().contains("no 'user' column"),
        "{}",
        broken.stderr()
    );
}

#[test]
fn usage_errors() {
    let w = World::bare();
    let none = w.run(&["audit"]);
    none.failure(2);
    assert!(none.stderr().contains("--from-report"), "{}", none.stderr());
    w.run(&["audit", "--from-report", "x.csv", "--as-of", "soon"])
        .failure(2);
    w.run(&["audit", "--sso-session", "corp"]).failure(2);
    w.run(&["audit", "--profile", "p", "--organization"])
        .failure(2);
}

/// Creates users in moto's identity store `store` and IAM users with one key
/// each in moto's default account, with boto3.
fn plant_identity_store(moto: &Moto, store: &str, people: &[(&str, &str)], iam_users: &[&str]) {
    let script = r#"
import json, sys
import boto3
endpoint, store, people, users = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), json.loads(sys.argv[4])
kw = dict(endpoint_url=endpoint, region_name="us-east-1",
          aws_access_key_id="testing", aws_secret_access_key="testing")
ids = boto3.client("identitystore", **kw)
for name, email in people:
    ids.create_user(IdentityStoreId=store, UserName=name, DisplayName=name,
                    Name={"GivenName": name, "FamilyName": "Example"},
                    Emails=[{"Value": email, "Type": "work", "Primary": True}])
iam = boto3.client("iam", **kw)
for user in users:
    iam.create_user(UserName=user)
    iam.create_access_key(UserName=user)
"#;
    let mut cmd = std::process::Command::new("python3");
    cmd.args(["-c", script, &moto.url, store])
        .arg(serde_json::to_string(people).unwrap())
        .arg(serde_json::to_string(iam_users).unwrap());
    crate::harness::run_python(cmd, "planting the identity store");
}

#[test]
fn departed_owners_from_the_identity_store() {
    const STORE: &str = "d-1234567890";
    let moto = Moto::start();
    // alice is in the store by user name, bob only by his e-mail's local
    // part, carol by her whole e-mail as IAM user name; grace and the
    // service user are not in it.
    plant_identity_store(
        &moto,
        STORE,
        &[
            ("alice", "alice.smith@example.com"),
            ("robert", "bob@example.com"),
            ("c.jones", "carol@example.com"),
        ],
        &["alice", "bob", "carol@example.com", "grace", "svc-ci"],
    );
    let mut w = World::bare();
    w.write_credentials("[mgmt]\naws_access_key_id = testing\naws_secret_access_key = testing\n");
    w.write_config("[profile mgmt]\nregion = us-east-1\n");
    for var in [
        "AWS_ENDPOINT_URL_IAM",
        "AWS_ENDPOINT_URL_STS",
        "AWS_ENDPOINT_URL_IDENTITYSTORE",
    ] {
        w.extra_env.push((var.into(), moto.url.clone()));
    }
    w.extra_env
        .push(("AWS_EC2_METADATA_DISABLED".into(), "true".into()));

    let run = w.run(&[
        "audit",
        "--profile",
        "mgmt",
        "--identity-store-id",
        STORE,
        "--format",
        "json",
    ]);
    run.failure(1);
    let snap = snapshot(&run);
    let departed: BTreeSet<String> = snap["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "departed-owner")
        .map(|f| {
            assert!(f["key_id"].as_str().unwrap().starts_with("AKIA"), "{f}");
            f["user"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(
        departed,
        BTreeSet::from(["grace".to_string(), "svc-ci".to_string()])
    );
    assert_eq!(snap["metrics"]["departed_owner_keys"], 2);
    assert_eq!(snap["metrics"]["active_keys"], 5);
    assert!(
        snap["not_evaluated"]
            .as_array()
            .unwrap()
            .iter()
            .all(|n| n["kind"] != "departed-owner"),
        "{}",
        snap["not_evaluated"]
    );

    // Without a source of people, departed owners are not evaluated, and
    // the output says how to evaluate them.
    let without = w.run(&["audit", "--profile", "mgmt", "--format", "json"]);
    let snap = snapshot(&without);
    assert_eq!(snap["metrics"]["departed_owner_keys"], 0);
    let reason = snap["not_evaluated"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["kind"] == "departed-owner")
        .map(|n| n["reason"].as_str().unwrap().to_string())
        .unwrap_or_default();
    assert!(reason.contains("--identity-store-id"), "{reason}");

    // A store with nobody in it (a wrong ID) is a failure naming the
    // next step, not an audit where everyone has left.
    let empty = w.run(&[
        "audit",
        "--profile",
        "mgmt",
        "--identity-store-id",
        "d-0000000000",
    ]);
    empty.failure(1);
    assert!(
        empty
            .stderr()
            .contains("identity store d-0000000000 has no users")
            && empty.stderr().contains("--people FILE"),
        "{}",
        empty.stderr()
    );
    assert!(empty.stdout().is_empty(), "{}", empty.stdout());

    // An identity store that cannot be reached is a failure too.
    let mut unreachable = World::bare();
    unreachable.write_credentials(
        "[mgmt]\naws_access_key_id = testing\naws_secret_access_key = testing\n",
    );
    unreachable.write_config("[profile mgmt]\nregion = us-east-1\n");
    unreachable.extra_env = w.extra_env.clone();
    unreachable.extra_env.push((
        "AWS_ENDPOINT_URL_IDENTITYSTORE".into(),
        "http://127.0.0.1:9".into(),
    ));
    let failed = unreachable.run(&["audit", "--profile", "mgmt", "--identity-store-id", STORE]);
    failed.failure(1);
    assert!(
        failed
            .stderr()
            .contains(&format!("cannot list the users of identity store {STORE}")),
        "{}",
        failed.stderr()
    );

    // --people and --identity-store-id are two answers to one question.
    let both = w.run(&[
        "audit",
        "--profile",
        "mgmt",
        "--identity-store-id",
        STORE,
        "--people",
        "/dev/null",
    ]);
    both.failure(2);
}
