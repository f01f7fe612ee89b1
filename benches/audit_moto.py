#!/usr/bin/env python3
"""A moto server with an organisation of N member accounts, 5 IAM users each
(one access key each), for benches/audit.sh.

    audit_moto.py N

Runs moto in this process (ThreadedMotoServer on a free loopback port),
creates the accounts through the Organizations API, plants the users
directly in moto's IAM state (fast), and marks each credential report as
generated, as AWS does for a report under four hours old. Prints the
port, then serves until stdin is closed.
"""
import sys

import boto3
from moto.iam.models import iam_backends
from moto.server import ThreadedMotoServer

USERS = 5


def main():
    count = int(sys.argv[1])
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    org = boto3.client("organizations", endpoint_url=endpoint, region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    org.create_organization(FeatureSet="ALL")
    for i in range(count):
        account = org.create_account(AccountName=f"bench-{i}", Email=f"bench-{i}@example.com")
        account_id = account["CreateAccountStatus"]["AccountId"]
        iam = iam_backends[account_id]["aws"]
        for u in range(USERS):
            name = f"user-{u}"
            iam.create_user("us-east-1", name)
            iam.create_access_key(name)
        iam.generate_report()
    print(port, flush=True)
    sys.stdin.read()
    server.stop()


if __name__ == "__main__":
    main()
