from http import HTTPStatus
from typing import Any, Optional, Union

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error_detail import ErrorDetail
from ...models.http_validation_error import HTTPValidationError
from ...models.settings_saved import SettingsSaved
from ...models.settings_update import SettingsUpdate
from ...types import Response


def _get_kwargs(
    *,
    body: SettingsUpdate,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "put",
        "url": "/api/admin/settings",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: Union[AuthenticatedClient, Client], response: httpx.Response
) -> Optional[Union[ErrorDetail, HTTPValidationError, SettingsSaved]]:
    if response.status_code == 200:
        response_200 = SettingsSaved.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = ErrorDetail.from_dict(response.json())

        return response_400

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
) -> Response[Union[ErrorDetail, HTTPValidationError, SettingsSaved]]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: SettingsUpdate,
) -> Response[Union[ErrorDetail, HTTPValidationError, SettingsSaved]]:
    """Saves settings into `config.toml`, keeping the file's other lines and
    comments. Every setting here applies after a restart.

    Args:
        body (SettingsUpdate): Body of `PUT /api/admin/settings`: the settings to change; the
            others keep their values.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Union[ErrorDetail, HTTPValidationError, SettingsSaved]]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    body: SettingsUpdate,
) -> Optional[Union[ErrorDetail, HTTPValidationError, SettingsSaved]]:
    """Saves settings into `config.toml`, keeping the file's other lines and
    comments. Every setting here applies after a restart.

    Args:
        body (SettingsUpdate): Body of `PUT /api/admin/settings`: the settings to change; the
            others keep their values.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Union[ErrorDetail, HTTPValidationError, SettingsSaved]
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: SettingsUpdate,
) -> Response[Union[ErrorDetail, HTTPValidationError, SettingsSaved]]:
    """Saves settings into `config.toml`, keeping the file's other lines and
    comments. Every setting here applies after a restart.

    Args:
        body (SettingsUpdate): Body of `PUT /api/admin/settings`: the settings to change; the
            others keep their values.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Union[ErrorDetail, HTTPValidationError, SettingsSaved]]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: SettingsUpdate,
) -> Optional[Union[ErrorDetail, HTTPValidationError, SettingsSaved]]:
    """Saves settings into `config.toml`, keeping the file's other lines and
    comments. Every setting here applies after a restart.

    Args:
        body (SettingsUpdate): Body of `PUT /api/admin/settings`: the settings to change; the
            others keep their values.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Union[ErrorDetail, HTTPValidationError, SettingsSaved]
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
