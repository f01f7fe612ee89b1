#!/usr/bin/env python3
"""Plants a known set of IAM users and keys in a moto server.

    plant.py ENDPOINT plant OUT.json   an organisation of three member accounts
    plant.py ENDPOINT delete OUT.json  deletes keys named in OUT.json["delete"]
    plant.py ENDPOINT reports OUT.json DIR   writes each account's credential report to DIR

The management account is moto's default (123456789012, any key). Member
accounts are entered with AssumeRole, which moto honours per account.
OUT.json records what was planted (no secrets): accounts, users, key IDs.
"""
import json
import sys

import boto3

ROLE = "SecurityAudit"
REGION = "us-east-1"
STAR = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"


def client(endpoint, service, creds=None):
    kw = dict(endpoint_url=endpoint, region_name=REGION)
    if creds:
        kw.update(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                  aws_session_token=creds["SessionToken"])
    else:
        kw.update(aws_access_key_id="testing", aws_secret_access_key="testing")
    return boto3.client(service, **kw)


def enter(endpoint, account):
    sts = client(endpoint, "sts")
    creds = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/{ROLE}", RoleSessionName="plant")["Credentials"]
    return client(endpoint, "iam", creds)


def user(iam, name, keys=0, path="/", groups=(), inline=None, attach=(), inactive=0):
    iam.create_user(UserName=name, Path=path)
    for g in groups:
        iam.add_user_to_group(GroupName=g, UserName=name)
    if inline:
        iam.put_user_policy(UserName=name, PolicyName="everything", PolicyDocument=inline)
    for arn in attach:
        iam.attach_user_policy(UserName=name, PolicyArn=arn)
    ids = []
    for i in range(keys):
        key = iam.create_access_key(UserName=name)["AccessKey"]
        ids.append(key["AccessKeyId"])
    for key_id in ids[:inactive]:
        iam.update_access_key(UserName=name, AccessKeyId=key_id, Status="Inactive")
    return {"name": name, "path": path, "keys": ids[inactive:], "inactive": ids[:inactive]}


def plant(endpoint, out):
    org = client(endpoint, "organizations")
    org.create_organization(FeatureSet="ALL")
    accounts = []
    for name in ["alpha", "beta", "gamma"]:
        status = org.create_account(AccountName=name, Email=f"{name}@example.com")["CreateAccountStatus"]
        accounts.append(status["AccountId"])
    a, b, c = accounts
    planted = {"management": "123456789012", "accounts": {}}

    iam = enter(endpoint, a)
    iam.create_group(GroupName="admins")
    iam.attach_group_policy(GroupName="admins", PolicyArn=ADMIN)
    iam.create_group(GroupName="devs")
    planted["accounts"][a] = [
        user(iam, "alice", keys=1, groups=["admins"]),
        user(iam, "bob", keys=2, groups=["devs"]),
        user(iam, "carol", keys=1, inline=STAR),
        user(iam, "svc-backup", keys=1, path="/keyless-exempt/", inline=STAR),
        user(iam, "dave", keys=1, inactive=1),
        user(iam, "erin"),
    ]

    iam = enter(endpoint, b)
    arn = iam.create_policy(PolicyName="everything", PolicyDocument=STAR)["Policy"]["Arn"]
    planted["accounts"][b] = [
        user(iam, "frank", keys=1),
        user(iam, "grace", keys=1, attach=[arn]),
    ]

    iam = enter(endpoint, c)
    planted["accounts"][c] = [user(iam, "heidi")]

    with open(out, "w") as f:
        json.dump(planted, f, indent=1)


def delete(endpoint, out):
    with open(out) as f:
        planted = json.load(f)
    for account, keys in planted.get("delete", {}).items():
        iam = enter(endpoint, account)
        for user_name, key_id in keys:
            iam.delete_access_key(UserName=user_name, AccessKeyId=key_id)


def reports(endpoint, out, directory):
    with open(out) as f:
        planted = json.load(f)
    for account in planted["accounts"]:
        iam = enter(endpoint, account)
        while iam.generate_credential_report()["State"] != "COMPLETE":
            pass
        content = iam.get_credential_report()["Content"]
        with open(f"{directory}/{account}.csv", "wb") as f:
            f.write(content)


if __name__ == "__main__":
    endpoint, action, out = sys.argv[1:4]
    if action == "plant":
        plant(endpoint, out)
    elif action == "delete":
        delete(endpoint, out)
    elif action == "reports":
        reports(endpoint, out, sys.argv[4])
    else:
        sys.exit(f"unknown action {action}")
