"""The DNS record a custom domain needs; provisioning never writes DNS itself."""

from __future__ import annotations

import json

from .live import LiveDomain


def dns_instructions(domain: LiveDomain, *, hosted_zone_id: str = "") -> list[str]:
    """Return lines telling a person which record to create for ``domain``."""
    target = domain.target_domain_name
    if not target:
        return [
            f"AWS has not returned a DNS target for {domain.domain_name} yet; run status later."
        ]
    lines = [
        f"Create this DNS record for {domain.domain_name}:",
        f"  {domain.domain_name}.  CNAME  {target}.",
        f"or, in Route 53, an A alias to {target} (alias hosted zone {domain.hosted_zone_id}).",
    ]
    if hosted_zone_id:
        change = {
            "Changes": [
                {
                    "Action": "UPSERT",
                    "ResourceRecordSet": {
                        "Name": domain.domain_name,
                        "Type": "A",
                        "AliasTarget": {
                            "DNSName": target,
                            "HostedZoneId": domain.hosted_zone_id,
                            "EvaluateTargetHealth": False,
                        },
                    },
                }
            ]
        }
        lines += [
            "With the AWS CLI:",
            f"  aws route53 change-resource-record-sets --hosted-zone-id {hosted_zone_id}"
            f" --change-batch '{json.dumps(change)}'",
        ]
    return lines
