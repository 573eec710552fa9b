"""The least-privilege IAM policy: runtime sending, and optionally provisioning.

The runtime statement allows ``execute-api:ManageConnections`` (post, get and delete on
``@connections``) on this API's stage only. Provisioning rights (``apigateway:*`` verbs on
the account's WebSocket APIs and custom domains) belong to whoever runs ``apply``,
ideally a deploy role, not the web server.
"""

from __future__ import annotations

from typing import Any


def runtime_statement(*, region: str, account_id: str, api_id: str, stage: str) -> dict[str, Any]:
    return {
        "Sid": "ApigwWsManageConnections",
        "Effect": "Allow",
        "Action": "execute-api:ManageConnections",
        "Resource": f"arn:aws:execute-api:{region}:{account_id}:{api_id}/{stage}/*/@connections/*",
    }


def provisioning_statements(*, region: str) -> list[dict[str, Any]]:
    base = f"arn:aws:apigateway:{region}::"
    return [
        {
            "Sid": "ApigwWsProvisionApis",
            "Effect": "Allow",
            "Action": [
                "apigateway:GET",
                "apigateway:POST",
                "apigateway:PATCH",
                "apigateway:PUT",
                "apigateway:DELETE",
            ],
            "Resource": [
                f"{base}/apis",
                f"{base}/apis/*",
                f"{base}/domainnames",
                f"{base}/domainnames/*",
                f"{base}/tags/*",
            ],
        },
        {
            # API Gateway creates its service-linked role the first time a custom
            # domain is made in an account.
            "Sid": "ApigwWsServiceLinkedRole",
            "Effect": "Allow",
            "Action": "iam:CreateServiceLinkedRole",
            "Resource": "arn:aws:iam::*:role/aws-service-role/ops.apigateway.amazonaws.com/*",
            "Condition": {"StringLike": {"iam:AWSServiceName": "ops.apigateway.amazonaws.com"}},
        },
    ]


def policy(
    *, region: str, account_id: str, api_id: str, stage: str, provisioning: bool = False
) -> dict[str, Any]:
    """Return the IAM policy document; ``"*"`` stands in for an id not known yet."""
    statements = [
        runtime_statement(
            region=region, account_id=account_id or "*", api_id=api_id or "*", stage=stage
        )
    ]
    if provisioning:
        statements += provisioning_statements(region=region)
    return {"Version": "2012-10-17", "Statement": statements}
