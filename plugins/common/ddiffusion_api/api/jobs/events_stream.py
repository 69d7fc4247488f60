from http import HTTPStatus
from typing import Any, Optional, Union
from uuid import UUID

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error_detail import ErrorDetail
from ...models.job_event_type_0 import JobEventType0
from ...models.job_event_type_1 import JobEventType1
from ...models.job_event_type_2 import JobEventType2
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    job: Union[Unset, UUID] = UNSET,
) -> dict[str, Any]:
    params: dict[str, Any] = {}

    json_job: Union[Unset, str] = UNSET
    if not isinstance(job, Unset):
        json_job = str(job)
    params["job"] = json_job

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/events",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: Union[AuthenticatedClient, Client], response: httpx.Response
) -> Optional[
    Union[ErrorDetail, Union["JobEventType0", "JobEventType1", "JobEventType2"]]
]:
    if response.status_code == 200:

        def _parse_response_200(
            data: object,
        ) -> Union["JobEventType0", "JobEventType1", "JobEventType2"]:
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                componentsschemas_job_event_type_0 = JobEventType0.from_dict(data)

                return componentsschemas_job_event_type_0
            except:  # noqa: E722
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                componentsschemas_job_event_type_1 = JobEventType1.from_dict(data)

                return componentsschemas_job_event_type_1
            except:  # noqa: E722
                pass
            if not isinstance(data, dict):
                raise TypeError()
            componentsschemas_job_event_type_2 = JobEventType2.from_dict(data)

            return componentsschemas_job_event_type_2

        response_200 = _parse_response_200(response.text)

        return response_200

    if response.status_code == 403:
        response_403 = ErrorDetail.from_dict(response.json())

        return response_403

    if response.status_code == 404:
        response_404 = ErrorDetail.from_dict(response.json())

        return response_404

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: Union[AuthenticatedClient, Client], response: httpx.Response
) -> Response[
    Union[ErrorDetail, Union["JobEventType0", "JobEventType1", "JobEventType2"]]
]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    job: Union[Unset, UUID] = UNSET,
) -> Response[
    Union[ErrorDetail, Union["JobEventType0", "JobEventType1", "JobEventType2"]]
]:
    """Streams job events as server-sent events.

     On connect it sends the current state of the job, or of every waiting and
    running job, so a client that reconnects misses nothing. Then it sends each
    state change, log line and progress update.

    Args:
        job (Union[Unset, UUID]):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Union[ErrorDetail, Union['JobEventType0', 'JobEventType1', 'JobEventType2']]]
    """

    kwargs = _get_kwargs(
        job=job,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    job: Union[Unset, UUID] = UNSET,
) -> Optional[
    Union[ErrorDetail, Union["JobEventType0", "JobEventType1", "JobEventType2"]]
]:
    """Streams job events as server-sent events.

     On connect it sends the current state of the job, or of every waiting and
    running job, so a client that reconnects misses nothing. Then it sends each
    state change, log line and progress update.

    Args:
        job (Union[Unset, UUID]):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Union[ErrorDetail, Union['JobEventType0', 'JobEventType1', 'JobEventType2']]
    """

    return sync_detailed(
        client=client,
        job=job,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    job: Union[Unset, UUID] = UNSET,
) -> Response[
    Union[ErrorDetail, Union["JobEventType0", "JobEventType1", "JobEventType2"]]
]:
    """Streams job events as server-sent events.

     On connect it sends the current state of the job, or of every waiting and
    running job, so a client that reconnects misses nothing. Then it sends each
    state change, log line and progress update.

    Args:
        job (Union[Unset, UUID]):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Union[ErrorDetail, Union['JobEventType0', 'JobEventType1', 'JobEventType2']]]
    """

    kwargs = _get_kwargs(
        job=job,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    job: Union[Unset, UUID] = UNSET,
) -> Optional[
    Union[ErrorDetail, Union["JobEventType0", "JobEventType1", "JobEventType2"]]
]:
    """Streams job events as server-sent events.

     On connect it sends the current state of the job, or of every waiting and
    running job, so a client that reconnects misses nothing. Then it sends each
    state change, log line and progress update.

    Args:
        job (Union[Unset, UUID]):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Union[ErrorDetail, Union['JobEventType0', 'JobEventType1', 'JobEventType2']]
    """

    return (
        await asyncio_detailed(
            client=client,
            job=job,
        )
    ).parsed
