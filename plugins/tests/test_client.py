"""The shared client layer, the committed generated client, and the original project's client."""

import filecmp
import importlib
import os
import socket
import subprocess
import sys
import threading
import time
import uuid

import httpx
import pytest

from conftest import PLUGINS, REPOSITORY, binary_path, free_port

from ddiffusion_plugin import ApiClient, ApiError, PollSchedule, TaskRunner
from ddiffusion_plugin.client import error_detail

ORIGINAL_OPENAPI = os.path.join(REPOSITORY, "tests", "contract", "original-openapi.json")


def generator():
    """Return the openapi-python-client executable of the test environment."""
    folder = os.path.dirname(sys.executable)
    path = os.path.join(folder, "openapi-python-client")
    if not os.path.isfile(path):
        pytest.skip("openapi-python-client is not installed next to %s" % sys.executable)
    return path


def run_generator(document, output):
    env = dict(os.environ)
    # The generator formats its output with ruff from the same environment.
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    subprocess.run(
        [generator(), "generate", "--path", document, "--meta", "none", "--output-path", output, "--overwrite"],
        check=True,
        capture_output=True,
        env=env,
        timeout=120,
    )


def compare_trees(left, right):
    """Return the relative paths that differ between two folders, ignoring caches."""
    differences = []
    comparison = filecmp.dircmp(left, right, ignore=["__pycache__", ".ruff_cache"])

    def visit(node, prefix):
        differences.extend(os.path.join(prefix, name) for name in node.left_only + node.right_only + node.diff_files)
        for name, child in node.subdirs.items():
            visit(child, os.path.join(prefix, name))

    visit(comparison, "")
    return differences


def test_committed_client_matches_server_document(tmp_path):
    output = tmp_path / "ddiffusion_api"
    env = dict(os.environ, DDIFFUSION_BINARY=binary_path(), PLUGINS_VENV=os.path.dirname(os.path.dirname(sys.executable)))
    subprocess.run(
        [os.path.join(PLUGINS, "generate-client.sh"), str(output)],
        check=True,
        capture_output=True,
        env=env,
        timeout=180,
    )

    differences = compare_trees(str(output), os.path.join(PLUGINS, "common", "ddiffusion_api"))
    assert differences == [], "plugins/common/ddiffusion_api is stale; run plugins/generate-client.sh"


def test_original_generated_client_against_server(tmp_path, server):
    package = "original_client_%s" % uuid.uuid4().hex[:8]
    run_generator(ORIGINAL_OPENAPI, str(tmp_path / package))
    sys.path.insert(0, str(tmp_path))
    try:
        client_module = importlib.import_module(package)
        models = importlib.import_module(package + ".models")
        images_create = importlib.import_module(package + ".api.images.images_create")
        images_get = importlib.import_module(package + ".api.images.images_get")
        images_delete = importlib.import_module(package + ".api.images.images_delete")
        images_list_models = importlib.import_module(package + ".api.images.images_list_models")
    finally:
        sys.path.remove(str(tmp_path))

    client = client_module.AuthenticatedClient(base_url=server.address, token=server.key, raise_on_unexpected_status=True)
    with client:
        listed = images_list_models.sync(client=client)
        assert "sd-xl" in listed.models.additional_properties

        request = models.ImageRequest(model=models.ImageRequestModel("sd-xl"), prompt="a lighthouse", width=64, height=64)
        created = images_create.sync(client=client, body=request)
        assert created.status.value == "PENDING"
        assert isinstance(created.id, uuid.UUID)

        deadline = time.monotonic() + 120
        while True:
            task = images_get.sync(created.id, client=client)
            if task.status.value in ("SUCCESS", "FAILURE", "REVOKED"):
                break
            assert time.monotonic() < deadline, "task %s still %s" % (created.id, task.status.value)
            time.sleep(0.2)
        assert task.status.value == "SUCCESS", task.error_message
        assert task.logs
        assert len(task.output) == 1
        image = httpx.get(task.output[0], timeout=30)
        assert image.status_code == 200
        assert image.content.startswith(b"\x89PNG")

        finished = images_delete.sync(created.id, client=client)
        assert finished.status.value == "SUCCESS"
        assert finished.message == "Task already completed"

        # A task cancelled while it waits behind a long one.
        blocker = images_create.sync(client=client, body=models.ImageRequest(model=models.ImageRequestModel("sd-xl"), width=512, height=512))
        waiting = images_create.sync(client=client, body=models.ImageRequest(model=models.ImageRequestModel("sd-xl"), width=64, height=64))
        cancelled = images_delete.sync(waiting.id, client=client)
        assert cancelled.status.value == "REVOKED"
        assert cancelled.message == "Task cancellation requested"
        assert images_get.sync(waiting.id, client=client).status.value == "REVOKED"
        assert images_delete.sync(waiting.id, client=client).message == "Task already completed"
        images_delete.sync(blocker.id, client=client)


class DroppingServer:
    """An HTTP server on 127.0.0.1 that closes the first `drops` connections without a response."""

    def __init__(self, drops, body=b'{"models": {"m": {"external": false, "provider": "local"}}}'):
        self.drops = drops
        self.body = body
        self.connections = 0
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.listener.settimeout(10)
        self.address = "http://127.0.0.1:%d" % self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            with connection:
                self.connections += 1
                connection.recv(65536)
                if self.connections <= self.drops:
                    continue
                connection.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s"
                    % (len(self.body), self.body)
                )

    def close(self):
        self.listener.close()


def test_dropped_connection_is_retried():
    server = DroppingServer(drops=2)
    try:
        with ApiClient(address=server.address, key="dd_a_b") as client:
            models = client.list_models("images")
    finally:
        server.close()

    assert list(models) == ["m"]
    assert server.connections == 3


def test_connection_dropped_every_time_fails():
    server = DroppingServer(drops=10)
    try:
        with ApiClient(address=server.address, key="dd_a_b") as client:
            with pytest.raises(ApiError) as raised:
                client.list_models("images")
    finally:
        server.close()

    assert "connection was closed" in raised.value.message
    assert server.connections == 3


def test_server_errors_carry_the_server_message(server):
    with ApiClient(address=server.address, key=server.key) as client:
        with pytest.raises(ApiError) as unknown_model:
            client.submit("images", {"model": "no-such-model"})
        with pytest.raises(ApiError) as unknown_task:
            client.get("images", str(uuid.uuid4()))
        with pytest.raises(ApiError) as bad_id:
            client.get("images", "not-a-task-id")

    assert unknown_model.value.status_code == 422
    assert 'model "no-such-model" is not available' in unknown_model.value.message
    assert unknown_task.value.status_code == 404
    assert "not found" in unknown_task.value.message
    assert "not a valid task ID" in bad_id.value.message


def test_runner_cancel_before_submit_returns(server):
    updates = []
    finished = []
    runner = TaskRunner(
        "images",
        lambda callback, *args: callback(*args),
        PollSchedule(first_delay=0.05, max_delay=0.2),
        fields={"model": "dev-local", "prompt": "steps=200 step_ms=50", "width": 8, "height": 8},
        client_factory=lambda: ApiClient(address=server.address, key=server.key),
        on_update=lambda state, elapsed: updates.append(state.status),
        on_finished=lambda state, result: finished.append(state.status),
    )
    runner.cancel()
    runner.start()
    runner.join(timeout=30)

    assert finished == ["REVOKED"]


def test_download_fails_with_status_and_leaves_no_file(server, tmp_path):
    target = tmp_path / "out.png"
    with ApiClient(address=server.address, key=server.key) as client:
        with pytest.raises(ApiError) as raised:
            client.download(server.address + "/api/files/images/x.png?expires=1&sig=00", str(target))

    assert raised.value.status_code == 403
    assert os.listdir(str(tmp_path)) == []


@pytest.mark.parametrize(
    "body, expected",
    [
        (b'{"detail": "Invalid or revoked token"}', "Invalid or revoked token"),
        (b'{"detail": [{"loc": ["body", "model"], "msg": "unknown model", "type": "enum"}]}', "model: unknown model"),
        (b'{"message": "Internal server error", "detail": "boom", "path": "/api/images"}', "Internal server error: boom"),
        (b"<html>Bad Gateway</html>", "<html>Bad Gateway</html>"),
        (b"", "no message"),
    ],
)
def test_error_detail(body, expected):
    assert error_detail(body) == expected


def test_unreachable_server_message():
    address = "http://127.0.0.1:%d" % free_port()
    started = time.monotonic()
    with ApiClient(address=address, key="dd_a_b") as client:
        with pytest.raises(ApiError) as raised:
            client.get("images", str(uuid.uuid4()))

    assert time.monotonic() - started < 10
    assert raised.value.message.startswith("Cannot connect to the Deferred Diffusion server at " + address)
