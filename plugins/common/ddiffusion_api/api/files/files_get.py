from http import HTTPStatus
from typing import Any, Optional, Union, cast

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error_detail import ErrorDetail
from ...types import UNSET, Response


def _get_kwargs(
    file_id: str,
    *,
    expires: int,
    sig: str,
) -> dict[str, Any]:
    params: dict[str, Any] = {}

    params["expires"] = expires

    params["sig"] = sig

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/files/{file_id}".format(
            file_id=file_id,
        ),
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: Union[AuthenticatedClient, Client], response: httpx.Response
) -> Optional[Union[Any, ErrorDetail]]:
    if response.status_code == 200:
        response_200 = cast(Any, None)
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
) -> Response[Union[Any, ErrorDetail]]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    file_id: str,
    *,
    client: Union[AuthenticatedClient, Client],
    expires: int,
    sig: str,
) -> Response[Union[Any, ErrorDetail]]:
    """Serves a stored file to anyone holding a valid signed URL.

    Args:
        file_id (str):
        expires (int):
        sig (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Union[Any, ErrorDetail]]
    """

    kwargs = _get_kwargs(
        file_id=file_id,
        expires=expires,
        sig=sig,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    file_id: str,
    *,
    client: Union[AuthenticatedClient, Client],
    expires: int,
    sig: str,
) -> Optional[Union[Any, ErrorDetail]]:
    """Serves a stored file to anyone holding a valid signed URL.

    Args:
        file_id (str):
        expires (int):
        sig (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Union[Any, ErrorDetail]
    """

    return sync_detailed(
        file_id=file_id,
        client=client,
        expires=expires,
        sig=sig,
    ).parsed


async def asyncio_detailed(
    file_id: str,
    *,
    client: Union[AuthenticatedClient, Client],
    expires: int,
    sig: str,
) -> Response[Union[Any, ErrorDetail]]:
    """Serves a stored file to anyone holding a valid signed URL.

    Args:
        file_id (str):
        expires (int):
        sig (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Union[Any, ErrorDetail]]
    """

    kwargs = _get_kwargs(
        file_id=file_id,
        expires=expires,
        sig=sig,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    file_id: str,
    *,
    client: Union[AuthenticatedClient, Client],
    expires: int,
    sig: str,
) -> Optional[Union[Any, ErrorDetail]]:
    """Serves a stored file to anyone holding a valid signed URL.

    Args:
        file_id (str):
        expires (int):
        sig (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Union[Any, ErrorDetail]
    """

    return (
        await asyncio_detailed(
            file_id=file_id,
            client=client,
            expires=expires,
            sig=sig,
        )
    ).parsed
