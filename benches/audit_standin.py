#!/usr/bin/env python3
"""A light stand-in for Organizations, STS and IAM, for benches/audit.sh.

    audit_standin.py N [--denied-every K] [--people FILE]

Answers, on one loopback port, exactly the calls `keyless audit
--organization` makes: Organizations ListAccounts (JSON protocol, pages of
20 as AWS gives them), STS AssumeRole, and IAM GenerateCredentialReport,
GetCredentialReport, GetAccountAuthorizationDetails and ListAccessKeys
(query protocol, the XML AWS sends). The organisation is the management
account and N member accounts with 5 IAM users each; every account and
user is generated from its number, so the data is deterministic and
costs nothing to hold. Requests are not authenticated: the account of an
IAM call is read from the access key AssumeRole handed out, as moto does,
but by a lookup, not by a scan of every account.

Why not moto: moto finds the account of each request by scanning every
account's access keys (moto.iam.models.get_account_id_from), so each
call costs time proportional to the number of accounts, and 2,000
accounts take moto, not keyless, half an hour. The integration tests
keep using moto; this is for measuring keyless at scale.

Prints the port on stdout, then the expected metrics as one JSON line
(the truth the audit must find with `--as-of 2026-12-01 --people FILE`;
`--people FILE` writes that file: every user name but those of the fifth
user of each account, who has left), then serves until stdin is closed. CPU time used is written
to stderr at exit.
"""
import asyncio
import base64
import json
import sys
import time
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qsl, quote

USERS = 5
PAGE = 20
MANAGEMENT = "100000000000"
AS_OF = datetime(2026, 12, 1, tzinfo=timezone.utc)
ADMIN_ARN = "arn:aws:iam::aws:policy/AdministratorAccess"
STAR = quote(json.dumps({"Version": "2012-10-17",
                         "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
IAM_NS = "https://iam.amazonaws.com/doc/2010-05-08/"
STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/"

# Each user follows one profile. `keys` are (age in days, days since last
# use or None for never, active); `expect` is what the audit must report
# for that user with the default thresholds (90/90/30 days).
PROFILES = [
    dict(name="fresh", keys=[(40, 1, True)], expect={}),
    dict(name="old", keys=[(200, 2, True)], expect={"keys_over_max_age": 1}),
    dict(name="neverused", keys=[(120, None, True)],
         expect={"keys_over_max_age": 1, "unused_keys": 1}),
    dict(name="admin", keys=[(10, 1, True)], attached=[ADMIN_ARN],
         expect={"users_with_admin_keys": 1, "new_keys": 1}),
    dict(name="rotation", keys=[(100, 1, True), (5, 1, True)],
         expect={"keys_over_max_age": 1, "new_keys": 1, "failed_rotations": 1}),
    dict(name="exempt", path="/keyless-exempt/", keys=[(300, 200, True)],
         expect={"exempt_keys": 1}),
    dict(name="groupadmin", keys=[(150, 100, True)], groups=["admins"],
         expect={"keys_over_max_age": 1, "unused_keys": 1, "users_with_admin_keys": 1}),
    dict(name="inline", keys=[(60, 3, True)], inline=[STAR],
         expect={"users_with_admin_keys": 1}),
    dict(name="inactive", keys=[(500, None, False)], expect={}),
]
METRICS = ["active_keys", "keys_over_max_age", "unused_keys", "users_with_admin_keys",
           "failed_rotations", "root_keys", "new_keys", "departed_owner_keys", "exempt_keys"]


def account_id(n):
    """Account 0 is the management account; members are 1..N."""
    return MANAGEMENT if n == 0 else f"{200000000000 + n:012d}"


def account_number(aid):
    return 0 if aid == MANAGEMENT else int(aid) - 200000000000


def users_of(n):
    """(name, profile) of each user of account n. User 4 has left."""
    return [(f"u{u}-{PROFILES[(n * USERS + u) % len(PROFILES)]['name']}",
             PROFILES[(n * USERS + u) % len(PROFILES)]) for u in range(USERS)]


def departed(name):
    return name.startswith(f"u{USERS - 1}-")


def has_root_key(n):
    return n % 10 == 3


def iso(days_ago):
    return (AS_OF - timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def key_id(n, user_index, slot):
    return f"AKIA{n:010d}{user_index}{slot}00"[:20]


def truth(count, denied_every):
    m = dict.fromkeys(METRICS, 0)
    ok = 0
    for n in range(count + 1):
        if denied(n, denied_every):
            continue
        ok += 1
        m["root_keys"] += has_root_key(n)
        for name, p in users_of(n):
            active = sum(1 for k in p["keys"] if k[2])
            m["active_keys"] += active
            for k, v in p["expect"].items():
                m[k] += v
            if departed(name) and not p.get("path") and active:
                m["departed_owner_keys"] += active
    return {"accounts": count + 1, "audited": ok, "metrics": m}


def denied(n, every):
    return every > 0 and n > 0 and n % every == 0


# --- answers -------------------------------------------------------------

def query(action, ns, body):
    return (f'<{action}Response xmlns="{ns}"><{action}Result>{body}</{action}Result>'
            f'<ResponseMetadata><RequestId>standin</RequestId></ResponseMetadata>'
            f'</{action}Response>').encode()


def error(ns, status, code, message):
    return status, "text/xml", (
        f'<ErrorResponse xmlns="{ns}"><Error><Type>Sender</Type><Code>{code}</Code>'
        f'<Message>{message}</Message></Error><RequestId>standin</RequestId>'
        f'</ErrorResponse>').encode()


def list_accounts(count, token):
    start = int(token) if token else 0
    end = min(start + PAGE, count + 1)
    out = {"Accounts": [{
        "Id": account_id(n),
        "Arn": f"arn:aws:organizations::{MANAGEMENT}:account/o-standin/{account_id(n)}",
        "Email": f"bench-{n}@example.com", "Name": f"bench-{n}",
        "Status": "ACTIVE", "State": "ACTIVE", "JoinedMethod": "CREATED",
        "JoinedTimestamp": 1.7e9} for n in range(start, end)]}
    if end < count + 1:
        out["NextToken"] = str(end)
    return 200, "application/x-amz-json-1.1", json.dumps(out).encode()


def assume_role(params, count, denied_every):
    arn = params.get("RoleArn", "")
    parts = arn.split(":")
    aid = parts[4] if len(parts) > 5 else ""
    n = account_number(aid) if aid.isdigit() else -1
    if not 0 <= n <= count or denied(n, denied_every):
        return error(STS_NS, 403, "AccessDenied",
                     f"not authorized to perform sts:AssumeRole on {arn}")
    session = params.get("RoleSessionName", "s")
    expires = (datetime.now(timezone.utc) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return 200, "text/xml", query("AssumeRole", STS_NS, (
        f"<Credentials><AccessKeyId>ASIA{aid}0000</AccessKeyId>"
        f"<SecretAccessKey>standin-secret-{aid}</SecretAccessKey>"
        f"<SessionToken>standin-token-{aid}</SessionToken>"
        f"<Expiration>{expires}</Expiration></Credentials>"
        f"<AssumedRoleUser><AssumedRoleId>AROASTANDIN:{session}</AssumedRoleId>"
        f"<Arn>arn:aws:sts::{aid}:assumed-role/{parts[-1].split('/')[-1]}/{session}</Arn>"
        f"</AssumedRoleUser>"))


REPORT_HEADER = ("user,arn,user_creation_time,password_enabled,password_last_used,"
                 "password_last_changed,password_next_rotation,mfa_active,"
                 "access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,"
                 "access_key_1_last_used_region,access_key_1_last_used_service,"
                 "access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,"
                 "access_key_2_last_used_region,access_key_2_last_used_service,"
                 "cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated\n")


def slot_columns(key):
    if key is None:
        return "false,N/A,N/A,N/A,N/A"
    age, used, active = key
    if used is None:
        return f"{str(active).lower()},{iso(age)},N/A,N/A,N/A"
    return f"{str(active).lower()},{iso(age)},{iso(used)},us-east-1,s3"


def credential_report(n, aid):
    created = iso(400)
    root = (f"<root_account>,arn:aws:iam::{aid}:root,{created},not_supported,no_information,"
            f"not_supported,not_supported,true,"
            + slot_columns((365, 30, True) if has_root_key(n) else None) + ","
            + slot_columns(None) + ",false,N/A,false,N/A\n")
    rows = [REPORT_HEADER, root]
    for name, p in users_of(n):
        keys = p["keys"] + [None] * (2 - len(p["keys"]))
        rows.append(f"{name},arn:aws:iam::{aid}:user{p.get('path', '/')}{name},{created},"
                    f"false,N/A,N/A,N/A,false,{slot_columns(keys[0])},{slot_columns(keys[1])},"
                    f"false,N/A,false,N/A\n")
    content = base64.b64encode("".join(rows).encode()).decode()
    return 200, "text/xml", query("GetCredentialReport", IAM_NS, (
        f"<Content>{content}</Content><ReportFormat>text/csv</ReportFormat>"
        f"<GeneratedTime>{iso(0)}</GeneratedTime>"))


def members(tag, items):
    return f"<{tag}>{''.join(f'<member>{i}</member>' for i in items)}</{tag}>"


def attached(arns):
    return members("AttachedManagedPolicies", (
        f"<PolicyName>{a.rsplit('/', 1)[-1]}</PolicyName><PolicyArn>{a}</PolicyArn>"
        for a in arns))


def inline(tag, docs):
    return members(tag, (f"<PolicyName>inline-{i}</PolicyName><PolicyDocument>{d}</PolicyDocument>"
                         for i, d in enumerate(docs)))


def authorization(n, aid):
    users = []
    for u, (name, p) in enumerate(users_of(n)):
        path = p.get("path", "/")
        users.append(
            f"<Path>{path}</Path><UserName>{name}</UserName><UserId>AIDA{n:012d}{u}</UserId>"
            f"<Arn>arn:aws:iam::{aid}:user{path}{name}</Arn><CreateDate>{iso(400)}</CreateDate>"
            + inline("UserPolicyList", p.get("inline", []))
            + members("GroupList", p.get("groups", []))
            + attached(p.get("attached", [])) + "<Tags/>")
    group = (f"<Path>/</Path><GroupName>admins</GroupName><GroupId>AGPA{n:012d}</GroupId>"
             f"<Arn>arn:aws:iam::{aid}:group/admins</Arn><CreateDate>{iso(400)}</CreateDate>"
             f"<GroupPolicyList/>" + attached([ADMIN_ARN]))
    return 200, "text/xml", query("GetAccountAuthorizationDetails", IAM_NS, (
        members("UserDetailList", users) + members("GroupDetailList", [group])
        + "<RoleDetailList/><Policies/><IsTruncated>false</IsTruncated>"))


def access_keys(n, user):
    for u, (name, p) in enumerate(users_of(n)):
        if name == user:
            items = [f"<UserName>{name}</UserName><AccessKeyId>{key_id(n, u, s + 1)}</AccessKeyId>"
                     f"<Status>{'Active' if k[2] else 'Inactive'}</Status>"
                     f"<CreateDate>{iso(k[0])}</CreateDate>" for s, k in enumerate(p["keys"])]
            return 200, "text/xml", query("ListAccessKeys", IAM_NS, (
                members("AccessKeyMetadata", items) + "<IsTruncated>false</IsTruncated>"))
    return error(IAM_NS, 404, "NoSuchEntity", f"The user with name {user} cannot be found.")


def answer(headers, body, count, denied_every):
    target = headers.get("x-amz-target", "")
    if target:
        if target.endswith(".ListAccounts"):
            token = json.loads(body or b"{}").get("NextToken")
            return list_accounts(count, token)
        return 400, "application/x-amz-json-1.1", json.dumps(
            {"__type": "UnknownOperationException", "message": target}).encode()
    params = dict(parse_qsl(body.decode()))
    action = params.get("Action", "")
    if action == "AssumeRole":
        return assume_role(params, count, denied_every)
    # The account of an IAM call: the access key AssumeRole gave out.
    auth = headers.get("authorization", "")
    start = auth.find("Credential=")
    key = auth[start + 11:auth.find("/", start)] if start >= 0 else ""
    aid = key[4:16] if key.startswith("ASIA") else MANAGEMENT
    n = account_number(aid)
    if action == "GenerateCredentialReport":
        return 200, "text/xml", query(action, IAM_NS, "<State>COMPLETE</State>")
    if action == "GetCredentialReport":
        return credential_report(n, aid)
    if action == "GetAccountAuthorizationDetails":
        return authorization(n, aid)
    if action == "ListAccessKeys":
        return access_keys(n, params.get("UserName", ""))
    return error(IAM_NS, 400, "InvalidAction", f"{action} is not answered by the stand-in")


class Http(asyncio.Protocol):
    """HTTP/1.1 with keep-alive and Content-Length bodies: what the SDK sends."""

    def __init__(self, count, denied_every, stats):
        self.count, self.denied_every, self.stats = count, denied_every, stats
        self.buf = b""

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.buf += data
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            lines = self.buf[:end].decode("latin-1").split("\r\n")
            headers = {}
            for line in lines[1:]:
                k, _, v = line.partition(":")
                headers[k.strip().lower()] = v.strip()
            length = int(headers.get("content-length", "0"))
            if len(self.buf) < end + 4 + length:
                return
            body = self.buf[end + 4:end + 4 + length]
            self.buf = self.buf[end + 4 + length:]
            status, ctype, out = answer(headers, body, self.count, self.denied_every)
            self.stats["requests"] += 1
            self.transport.write(
                f"HTTP/1.1 {status} {'OK' if status == 200 else 'Error'}\r\n"
                f"Content-Type: {ctype}\r\nContent-Length: {len(out)}\r\n"
                f"x-amzn-RequestId: standin\r\n\r\n".encode() + out)


async def serve(count, denied_every):
    loop = asyncio.get_running_loop()
    stats = {"requests": 0}
    server = await loop.create_server(lambda: Http(count, denied_every, stats), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    print(port, flush=True)
    print(json.dumps(truth(count, denied_every)), flush=True)
    await loop.run_in_executor(None, sys.stdin.read)
    server.close()
    cpu = time.process_time()
    print(f"stand-in: {stats['requests']} requests, {cpu:.1f} s CPU", file=sys.stderr)


def people():
    return sorted({name for n in range(len(PROFILES)) for name, _ in users_of(n)
                   if not departed(name)})


def main():
    args = sys.argv[1:]
    denied_every = 0
    if "--people" in args:
        i = args.index("--people")
        with open(args[i + 1], "w") as f:
            f.write("".join(f"{name}\n" for name in people()))
        del args[i:i + 2]
    if "--denied-every" in args:
        i = args.index("--denied-every")
        denied_every = int(args[i + 1])
        del args[i:i + 2]
    asyncio.run(serve(int(args[0]), denied_every))


if __name__ == "__main__":
    main()
