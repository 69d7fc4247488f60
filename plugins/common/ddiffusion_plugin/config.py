"""Server address, API key and identity headers, read from the environment."""

import getpass
import os
import socket

DEFAULT_ADDRESS = "http://127.0.0.1:5000"


def api_address():
    """Return the server's base URL from DDIFFUSION_API_ADDRESS, without a trailing slash."""
    address = os.environ.get("DDIFFUSION_API_ADDRESS", "").strip() or DEFAULT_ADDRESS
    if "://" not in address:
        address = "http://" + address
    return address.rstrip("/")


def api_key():
    """Return the API key from DDIFFUSION_API_KEY, or an empty string."""
    return os.environ.get("DDIFFUSION_API_KEY", "").strip()


def identity_headers():
    """Return the `x-user-id` (OS user) and `x-machine-id` (host name) headers."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        # getpass raises when neither the login variables nor the password
        # database name the user, for example in some containers.
        user = "unknown"
    machine = socket.gethostname() or "unknown"
    return {"x-user-id": user, "x-machine-id": machine}


def documentation_url(address):
    """Return the URL of the API reference (ReDoc) of the server at `address`."""
    return address.rstrip("/") + "/redoc"


def task_monitor_url(address, task_id):
    """Return the URL of the server's page for one task."""
    return "%s/ui/tasks/%s" % (address.rstrip("/"), task_id.strip())
