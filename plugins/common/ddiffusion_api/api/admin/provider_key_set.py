from http import HTTPStatus
from typing import Any, Optional, Union

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error_detail import ErrorDetail
from ...models.provider_key_status import ProviderKeyStatus
from ...models.provider_key_update import ProviderKeyUpdate
from ...types import Response


def _get_kwargs(
    provider: str,
    *,
    body: ProviderKeyUpdate,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "put",
        "url": "/api/admin/provider-keys/{provider}".format(
            provider=provider,
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: Union[AuthenticatedClient, Client], response: httpx.Response
) -> Optional[Union[ErrorDetail, ProviderKeyStatus]]:
    if response.status_code == 200:
        response_200 = ProviderKeyStatus.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = ErrorDetail.from_dict(response.json())

        return response_400

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
) -> Response[Union[ErrorDetail, ProviderKeyStatus]]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    provider: str,
    *,
    client: AuthenticatedClient,
    body: ProviderKeyUpdate,
) -> Response[Union[ErrorDetail, ProviderKeyStatus]]:
    """Stores an external provider's key in `config.toml` and uses it at once,
    without a restart. An empty or null key removes it. The key is never returned.

    Args:
        provider (str):
        body (ProviderKeyUpdate): Body of `PUT /api/admin/provider-keys/{provider}`; an empty or
            null key removes it.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Union[ErrorDetail, ProviderKeyStatus]]
    """

    kwargs = _get_kwargs(
        provider=provider,
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    provider: str,
    *,
    client: AuthenticatedClient,
    body: ProviderKeyUpdate,
) -> Optional[Union[ErrorDetail, ProviderKeyStatus]]:
    """Stores an external provider's key in `config.toml` and uses it at once,
    without a restart. An empty or null key removes it. The key is never returned.

    Args:
        provider (str):
        body (ProviderKeyUpdate): Body of `PUT /api/admin/provider-keys/{provider}`; an empty or
            null key removes it.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Union[ErrorDetail, ProviderKeyStatus]
    """

    return sync_detailed(
        provider=provider,
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    provider: str,
    *,
    client: AuthenticatedClient,
    body: ProviderKeyUpdate,
) -> Response[Union[ErrorDetail, ProviderKeyStatus]]:
    """Stores an external provider's key in `config.toml` and uses it at once,
    without a restart. An empty or null key removes it. The key is never returned.

    Args:
        provider (str):
        body (ProviderKeyUpdate): Body of `PUT /api/admin/provider-keys/{provider}`; an empty or
            null key removes it.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Union[ErrorDetail, ProviderKeyStatus]]
    """

    kwargs = _get_kwargs(
        provider=provider,
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    provider: str,
    *,
    client: AuthenticatedClient,
    body: ProviderKeyUpdate,
) -> Optional[Union[ErrorDetail, ProviderKeyStatus]]:
    """Stores an external provider's key in `config.toml` and uses it at once,
    without a restart. An empty or null key removes it. The key is never returned.

    Args:
        provider (str):
        body (ProviderKeyUpdate): Body of `PUT /api/admin/provider-keys/{provider}`; an empty or
            null key removes it.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Union[ErrorDetail, ProviderKeyStatus]
    """

    return (
        await asyncio_detailed(
            provider=provider,
            client=client,
            body=body,
        )
    ).parsed
