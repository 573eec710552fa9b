"""A thin test double around moto's ``apigatewayv2`` client.

moto 5 implements most of the control plane, and every call it implements goes to it
unchanged. It lacks ``CreateDeployment``, ``GetDeployment(s)``, ``UpdateStage``,
``GetRouteResponses``, ``UpdateDomainName`` and ``UpdateApiMapping``, and its domain
names have no ``ApiGatewayDomainName``/``HostedZoneId``. This double implements exactly
those, on top of moto's own in-memory state (so a route deleted through moto has no route
responses here either), and can inject an AWS error into the next call of any operation.
"""

from __future__ import annotations

import random
import string
from typing import Any

from botocore.exceptions import ClientError
from moto.apigatewayv2.models import apigatewayv2_backends
from moto.core import DEFAULT_ACCOUNT_ID

#: The hosted zone id AWS gives regional custom domains in us-east-1 (documented by AWS).
REGIONAL_ZONE_ID = "Z1UJRXOUMOOFQ8"


def _error(operation: str, code: str, message: str, status: int = 400) -> ClientError:
    response = {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return ClientError(response, operation)  # type: ignore[arg-type]


def _id() -> str:
    return "".join(random.choices(string.ascii_lowercase + string.digits, k=8))


class ApiGatewayV2Double:
    """Delegates to moto; fills in the operations moto lacks; injects faults."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.meta = client.meta
        self._faults: dict[str, list[tuple[str, str]]] = {}
        self._deployments: dict[str, dict[str, dict[str, Any]]] = {}  # api -> id -> deployment
        self._stage_deployment: dict[tuple[str, str], str] = {}
        self.calls: list[str] = []

    # -- faults ------------------------------------------------------------------------

    def fail(self, method: str, code: str, message: str = "injected", times: int = 1) -> None:
        """Make the next ``times`` calls of ``method`` raise AWS's ``code``."""
        self._faults.setdefault(method, []).extend([(code, message)] * times)

    def _maybe_fail(self, method: str) -> None:
        pending = self._faults.get(method)
        if pending:
            code, message = pending.pop(0)
            operation = "".join(p.title() for p in method.split("_"))
            raise _error(operation, code, message)

    def __getattr__(self, method: str) -> Any:
        real = getattr(self._client, method)

        def wrapper(**kwargs: Any) -> Any:
            self.calls.append(method)
            self._maybe_fail(method)
            return real(**kwargs)

        return wrapper

    def _backend(self) -> Any:
        return apigatewayv2_backends[DEFAULT_ACCOUNT_ID][self.meta.region_name]

    def _api(self, api_id: str) -> Any:
        api = self._backend().apis.get(api_id)
        if api is None:
            raise _error(
                "GetApi", "NotFoundException", f"Invalid API identifier specified {api_id}", 404
            )
        return api

    def _enter(self, method: str) -> None:
        self.calls.append(method)
        self._maybe_fail(method)

    # -- what moto lacks -----------------------------------------------------------------

    def create_deployment(
        self, *, ApiId: str, StageName: str = "", Description: str = ""
    ) -> dict[str, Any]:
        self._enter("create_deployment")
        api = self._api(ApiId)
        if StageName and StageName not in api.stages:
            raise _error(
                "CreateDeployment",
                "NotFoundException",
                f"Invalid stage identifier specified {StageName}",
                404,
            )
        deployment = {
            "DeploymentId": _id(),
            "DeploymentStatus": "DEPLOYED",
            "Description": Description,
        }
        self._deployments.setdefault(ApiId, {})[deployment["DeploymentId"]] = deployment
        if StageName:
            self._stage_deployment[(ApiId, StageName)] = deployment["DeploymentId"]
        return dict(deployment)

    def get_deployment(self, *, ApiId: str, DeploymentId: str) -> dict[str, Any]:
        self._enter("get_deployment")
        deployment = self._deployments.get(ApiId, {}).get(DeploymentId)
        if deployment is None:
            raise _error("GetDeployment", "NotFoundException", "Invalid deployment identifier", 404)
        return dict(deployment)

    def get_deployments(self, *, ApiId: str, **_: Any) -> dict[str, Any]:
        self._enter("get_deployments")
        return {"Items": [dict(x) for x in self._deployments.get(ApiId, {}).values()]}

    def get_stage(self, *, ApiId: str, StageName: str) -> dict[str, Any]:
        stage = self.__getattr__("get_stage")(ApiId=ApiId, StageName=StageName)
        deployment_id = self._stage_deployment.get((ApiId, StageName))
        if deployment_id:
            stage["DeploymentId"] = deployment_id
        return stage

    def update_stage(
        self, *, ApiId: str, StageName: str, Description: str | None = None, **_: Any
    ) -> dict[str, Any]:
        self._enter("update_stage")
        stage = self._api(ApiId).stages.get(StageName)
        if stage is None:
            raise _error(
                "UpdateStage",
                "NotFoundException",
                f"Invalid stage identifier specified {StageName}",
                404,
            )
        if Description is not None:
            stage.description = Description
        return {"StageName": StageName, "Description": stage.description}

    def get_route_responses(self, *, ApiId: str, RouteId: str, **_: Any) -> dict[str, Any]:
        self._enter("get_route_responses")
        route = self._api(ApiId).routes.get(RouteId)
        if route is None:
            raise _error(
                "GetRouteResponses",
                "NotFoundException",
                f"Invalid Route identifier specified {RouteId}",
                404,
            )
        return {
            "Items": [
                {"RouteResponseId": rr_id, "RouteResponseKey": rr.route_response_key}
                for rr_id, rr in route.route_responses.items()
            ]
        }

    def _with_target(self, domain: dict[str, Any]) -> dict[str, Any]:
        for config in domain.get("DomainNameConfigurations", []):
            config.setdefault(
                "ApiGatewayDomainName",
                f"d-{_stable(domain['DomainName'])}.execute-api.{self.meta.region_name}.amazonaws.com",
            )
            config.setdefault("HostedZoneId", REGIONAL_ZONE_ID)
        return domain

    def create_domain_name(self, **kwargs: Any) -> dict[str, Any]:
        return self._with_target(self.__getattr__("create_domain_name")(**kwargs))

    def get_domain_name(self, **kwargs: Any) -> dict[str, Any]:
        return self._with_target(self.__getattr__("get_domain_name")(**kwargs))

    def update_domain_name(
        self, *, DomainName: str, DomainNameConfigurations: list[dict[str, Any]]
    ) -> dict[str, Any]:
        self._enter("update_domain_name")
        domain = self._backend().domain_names.get(DomainName)
        if domain is None:
            raise _error("UpdateDomainName", "NotFoundException", "Invalid domain name", 404)
        # moto keeps the request's wire form (camelCase keys).
        domain.domain_name_configurations = [
            {key[0].lower() + key[1:]: value for key, value in config.items()}
            for config in DomainNameConfigurations
        ]
        return self.get_domain_name(DomainName=DomainName)

    def update_api_mapping(
        self, *, ApiId: str, ApiMappingId: str, DomainName: str, Stage: str, **_: Any
    ) -> dict[str, Any]:
        self._enter("update_api_mapping")
        mapping = self._backend().api_mappings.get(ApiMappingId)
        if mapping is None or mapping.domain_name != DomainName:
            raise _error("UpdateApiMapping", "NotFoundException", "Invalid mapping", 404)
        mapping.api_id, mapping.stage = ApiId, Stage
        return {"ApiId": ApiId, "ApiMappingId": ApiMappingId, "Stage": Stage}


def _stable(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode()).hexdigest()[:10]
