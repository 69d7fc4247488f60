from http import HTTPStatus
from typing import Any, Optional, Union

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error_detail import ErrorDetail
from ...models.server_settings import ServerSettings
from ...types import Response


def _get_kwargs() -> dict[str, Any]:
    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/admin/settings",
    }

    return _kwargs


def _parse_response(
    *, client: Union[AuthenticatedClient, Client], response: httpx.Response
) -> Optional[Union[ErrorDetail, ServerSettings]]:
    if response.status_code == 200:
        response_200 = ServerSettings.from_dict(response.json())

        return response_200

    if response.status_code == 403:
        response_403 = ErrorDetail.from_dict(response.json())

        return response_403

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: Union[AuthenticatedClient, Client], response: httpx.Response
) -> Response[Union[ErrorDetail, ServerSettings]]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
) -> Response[Union[ErrorDetail, ServerSettings]]:
    """Settings of local models, the bind address, the data folder and whether
    each provider has a key (never the key itself).

     The values are those of `config.toml` and the `DDIFFUSION_*` variables,
    which the next start uses; `--bind` on the command line is not included.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Union[ErrorDetail, ServerSettings]]
    """

    kwargs = _get_kwargs()

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
) -> Optional[Union[ErrorDetail, ServerSettings]]:
    """Settings of local models, the bind address, the data folder and whether
    each provider has a key (never the key itself).

     The values are those of `config.toml` and the `DDIFFUSION_*` variables,
    which the next start uses; `--bind` on the command line is not included.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Union[ErrorDetail, ServerSettings]
    """

    return sync_detailed(
        client=client,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
) -> Response[Union[ErrorDetail, ServerSettings]]:
    """Settings of local models, the bind address, the data folder and whether
    each provider has a key (never the key itself).

     The values are those of `config.toml` and the `DDIFFUSION_*` variables,
    which the next start uses; `--bind` on the command line is not included.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Union[ErrorDetail, ServerSettings]]
    """

    kwargs = _get_kwargs()

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
) -> Optional[Union[ErrorDetail, ServerSettings]]:
    """Settings of local models, the bind address, the data folder and whether
    each provider has a key (never the key itself).

     The values are those of `config.toml` and the `DDIFFUSION_*` variables,
    which the next start uses; `--bind` on the command line is not included.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Union[ErrorDetail, ServerSettings]
    """

    return (
        await asyncio_detailed(
            client=client,
        )
    ).parsed
