from http import HTTPStatus
from typing import Any, Optional, Union

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.domain import Domain
from ...models.error_detail import ErrorDetail
from ...models.http_validation_error import HTTPValidationError
from ...models.job_list import JobList
from ...models.task_status import TaskStatus
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    status: Union[Unset, TaskStatus] = UNSET,
    domain: Union[Unset, Domain] = UNSET,
    offset: Union[Unset, int] = UNSET,
    limit: Union[Unset, int] = UNSET,
) -> dict[str, Any]:
    params: dict[str, Any] = {}

    json_status: Union[Unset, str] = UNSET
    if not isinstance(status, Unset):
        json_status = status.value

    params["status"] = json_status

    json_domain: Union[Unset, str] = UNSET
    if not isinstance(domain, Unset):
        json_domain = domain.value

    params["domain"] = json_domain

    params["offset"] = offset

    params["limit"] = limit

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/jobs",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: Union[AuthenticatedClient, Client], response: httpx.Response
) -> Optional[Union[ErrorDetail, HTTPValidationError, JobList]]:
    if response.status_code == 200:
        response_200 = JobList.from_dict(response.json())

        return response_200

    if response.status_code == 403:
        response_403 = ErrorDetail.from_dict(response.json())

        return response_403

    if response.status_code == 422:
        response_422 = HTTPValidationError.from_dict(response.json())

        return response_422

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: Union[AuthenticatedClient, Client], response: httpx.Response
) -> Response[Union[ErrorDetail, HTTPValidationError, JobList]]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    status: Union[Unset, TaskStatus] = UNSET,
    domain: Union[Unset, Domain] = UNSET,
    offset: Union[Unset, int] = UNSET,
    limit: Union[Unset, int] = UNSET,
) -> Response[Union[ErrorDetail, HTTPValidationError, JobList]]:
    """Lists jobs of every domain, newest first.

    Args:
        status (Union[Unset, TaskStatus]): Status of a task, with the state names of the original
            Celery-based server.

            This server produces `PENDING` (waiting in a lane), `STARTED` (running),
            `SUCCESS`, `FAILURE` and `REVOKED` (cancelled). The other values stay in the
            enum so that clients generated from the original contract still parse.
        domain (Union[Unset, Domain]): A family of requests with its own routes under
            `/api/{domain}`.
        offset (Union[Unset, int]):
        limit (Union[Unset, int]):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Union[ErrorDetail, HTTPValidationError, JobList]]
    """

    kwargs = _get_kwargs(
        status=status,
        domain=domain,
        offset=offset,
        limit=limit,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    status: Union[Unset, TaskStatus] = UNSET,
    domain: Union[Unset, Domain] = UNSET,
    offset: Union[Unset, int] = UNSET,
    limit: Union[Unset, int] = UNSET,
) -> Optional[Union[ErrorDetail, HTTPValidationError, JobList]]:
    """Lists jobs of every domain, newest first.

    Args:
        status (Union[Unset, TaskStatus]): Status of a task, with the state names of the original
            Celery-based server.

            This server produces `PENDING` (waiting in a lane), `STARTED` (running),
            `SUCCESS`, `FAILURE` and `REVOKED` (cancelled). The other values stay in the
            enum so that clients generated from the original contract still parse.
        domain (Union[Unset, Domain]): A family of requests with its own routes under
            `/api/{domain}`.
        offset (Union[Unset, int]):
        limit (Union[Unset, int]):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Union[ErrorDetail, HTTPValidationError, JobList]
    """

    return sync_detailed(
        client=client,
        status=status,
        domain=domain,
        offset=offset,
        limit=limit,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    status: Union[Unset, TaskStatus] = UNSET,
    domain: Union[Unset, Domain] = UNSET,
    offset: Union[Unset, int] = UNSET,
    limit: Union[Unset, int] = UNSET,
) -> Response[Union[ErrorDetail, HTTPValidationError, JobList]]:
    """Lists jobs of every domain, newest first.

    Args:
        status (Union[Unset, TaskStatus]): Status of a task, with the state names of the original
            Celery-based server.

            This server produces `PENDING` (waiting in a lane), `STARTED` (running),
            `SUCCESS`, `FAILURE` and `REVOKED` (cancelled). The other values stay in the
            enum so that clients generated from the original contract still parse.
        domain (Union[Unset, Domain]): A family of requests with its own routes under
            `/api/{domain}`.
        offset (Union[Unset, int]):
        limit (Union[Unset, int]):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Union[ErrorDetail, HTTPValidationError, JobList]]
    """

    kwargs = _get_kwargs(
        status=status,
        domain=domain,
        offset=offset,
        limit=limit,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    status: Union[Unset, TaskStatus] = UNSET,
    domain: Union[Unset, Domain] = UNSET,
    offset: Union[Unset, int] = UNSET,
    limit: Union[Unset, int] = UNSET,
) -> Optional[Union[ErrorDetail, HTTPValidationError, JobList]]:
    """Lists jobs of every domain, newest first.

    Args:
        status (Union[Unset, TaskStatus]): Status of a task, with the state names of the original
            Celery-based server.

            This server produces `PENDING` (waiting in a lane), `STARTED` (running),
            `SUCCESS`, `FAILURE` and `REVOKED` (cancelled). The other values stay in the
            enum so that clients generated from the original contract still parse.
        domain (Union[Unset, Domain]): A family of requests with its own routes under
            `/api/{domain}`.
        offset (Union[Unset, int]):
        limit (Union[Unset, int]):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Union[ErrorDetail, HTTPValidationError, JobList]
    """

    return (
        await asyncio_detailed(
            client=client,
            status=status,
            domain=domain,
            offset=offset,
            limit=limit,
        )
    ).parsed
