"""Shared fixtures: import paths, a running `ddiffusion serve`, and the fake hosts."""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import pytest

PLUGINS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPOSITORY = os.path.dirname(PLUGINS)
ASSETS = os.path.join(REPOSITORY, "tests", "assets")

for path in (
    os.path.join(PLUGINS, "tests", "fakes"),
    os.path.join(PLUGINS, "common"),
    os.path.join(PLUGINS, "nuke", "python"),
    os.path.join(PLUGINS, "houdini", "python3.11libs"),
):
    if path not in sys.path:
        sys.path.insert(0, path)

ADMIN_KEY = "plugin-tests-admin-key-0123456789abcdef"


def binary_path():
    path = os.environ.get("DDIFFUSION_BINARY", os.path.join(REPOSITORY, "target", "debug", "ddiffusion"))
    return os.path.abspath(path)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """A `ddiffusion serve` process on a free loopback port, with one API key."""

    def __init__(self, root):
        self.root = root
        self.binary = binary_path()
        self.hf_home = os.path.join(root, "hf")
        self.data_dir = os.path.join(root, "data")
        self.port = free_port()
        self.address = "http://127.0.0.1:%d" % self.port
        self.log_path = os.path.join(root, "server.log")
        self.process = None
        self.key = None

    def environment(self):
        env = dict(os.environ)
        env.update(
            {
                "HF_HOME": self.hf_home,
                "HF_HUB_OFFLINE": "1",
                "DDIFFUSION_DATA_DIR": self.data_dir,
                "DDIFFUSION_ADMIN_KEY": ADMIN_KEY,
            }
        )
        for name in ("DDIFFUSION_API_KEY", "DDIFFUSION_API_ADDRESS", "DDIFFUSION_BIND"):
            env.pop(name, None)
        return env

    def start(self):
        if not os.path.isfile(self.binary):
            pytest.exit("server binary %s not found; build it or set DDIFFUSION_BINARY" % self.binary, returncode=2)
        env = self.environment()
        subprocess.run([self.binary, "dev", "fixtures", "sd-xl"], env=env, check=True, capture_output=True, timeout=120)
        created = subprocess.run(
            [self.binary, "keys", "create", "plugin-tests", "--data-dir", self.data_dir],
            env=env,
            check=True,
            capture_output=True,
            text=True,
            timeout=60,
        )
        self.key = created.stdout.strip().splitlines()[-1]
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [self.binary, "serve", "--bind", "127.0.0.1:%d" % self.port, "--dev-models"],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while True:
            if self.process.poll() is not None:
                raise RuntimeError("ddiffusion serve exited with %s; log:\n%s" % (self.process.returncode, self.log()))
            try:
                with urllib.request.urlopen(self.address + "/health", timeout=2) as response:
                    if json.loads(response.read()).get("status") == "healthy":
                        return self
            except (urllib.error.URLError, OSError, ValueError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("ddiffusion serve did not answer /health within 60 s; log:\n" + self.log())
            time.sleep(0.1)

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)
        if self.process is not None:
            self._log.close()

    def log(self):
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as source:
                return source.read()[-4000:]
        except OSError:
            return ""

    def request(self, method, path, body=None):
        """Send one authenticated JSON request with the standard library; return (status, body)."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.address + path,
            data=data,
            method=method,
            headers={"Authorization": "Bearer " + self.key, "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")


@pytest.fixture(scope="session")
def server():
    root = tempfile.mkdtemp(prefix="ddiffusion-plugin-tests-")
    running = Server(root)
    try:
        yield running.start()
    finally:
        running.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def api_env(server, monkeypatch):
    """Point the plug-ins at the test server through their environment variables."""
    monkeypatch.setenv("DDIFFUSION_API_ADDRESS", server.address)
    monkeypatch.setenv("DDIFFUSION_API_KEY", server.key)
    return server


@pytest.fixture
def fast_polling(monkeypatch):
    """Poll every 0.1 to 0.3 s so that tests follow tasks quickly."""
    from ddiffusion_plugin.runner import PollSchedule

    schedule = PollSchedule(first_delay=0.1, max_delay=0.3, factor=1.5, time_limit=120)
    import dd_nuke.actions

    for name in list(dd_nuke.actions.SCHEDULES):
        monkeypatch.setitem(dd_nuke.actions.SCHEDULES, name, schedule)
    try:
        import dd_houdini.tasks

        for name in list(dd_houdini.tasks.SCHEDULES):
            monkeypatch.setitem(dd_houdini.tasks.SCHEDULES, name, schedule)
    except ImportError:
        pass
    return schedule


@pytest.fixture
def asset():
    return lambda name: os.path.join(ASSETS, name)


@pytest.fixture
def nuke_session(tmp_path):
    """A fresh fake Nuke session with a saved script at frame 1001; stops runners afterwards."""
    import nuke

    import dd_nuke.actions

    shots = tmp_path / "shots"
    shots.mkdir()
    nuke.reset(script_path=str(shots / "shot010.nk"), frame=1001)
    yield nuke
    for runner in list(dd_nuke.actions._RUNNERS.values()):
        runner.stop()
    dd_nuke.actions._RUNNERS.clear()


@pytest.fixture
def houdini_session(tmp_path):
    """A fresh fake Houdini session with a saved scene at frame 1001 and a COP network /img."""
    import hou

    import dd_houdini.tasks

    scenes = tmp_path / "scenes"
    scenes.mkdir()
    hou.reset(hip_path=str(scenes / "shot010.hip"), frame=1001)
    hou.node("/").createNode("copnet", "img")
    dd_houdini.tasks._MENU_CACHE.clear()
    yield hou
    for runner in list(dd_houdini.tasks._RUNNERS.values()):
        runner.stop()
    dd_houdini.tasks._RUNNERS.clear()
    dd_houdini.tasks._MENU_CACHE.clear()
