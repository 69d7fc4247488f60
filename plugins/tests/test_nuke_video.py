"""DDVideo against a stand-in videos API on 127.0.0.1.

The server has no video models yet, so a small HTTP server serves the
videos routes with the contract's shapes and a placeholder movie.
"""

import base64
import getpass
import json
import os
import socket
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import dd_nuke
import dd_nuke.actions

MOVIE = b"FAKE-MOV frames=48"
VIDEO_MODEL = {
    "external": False,
    "provider": "local",
    "text_to_video": True,
    "image_to_video": True,
    "video_to_video": True,
    "last_image": True,
    "audio": False,
    "description": None,
}


class VideoApi:
    def __init__(self):
        self.task_id = str(uuid.uuid4())
        self.requests = []
        self.headers = []
        self.polls = 0
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def reply(self, status, body, content_type="application/json"):
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                api.headers.append((self.path, dict(self.headers)))
                if self.path == "/api/videos/models":
                    self.reply(200, {"models": {"mock-video": VIDEO_MODEL}})
                elif self.path.endswith("/models"):
                    self.reply(200, {"models": {}})
                elif self.path == "/api/videos/" + api.task_id:
                    api.polls += 1
                    if api.polls == 1:
                        self.reply(200, {"id": api.task_id, "status": "STARTED", "output": [], "logs": ["Inference step 1/2 (50%)"]})
                    else:
                        output = ["http://%s:%d/api/files/videos/clip.mp4?expires=1&sig=0" % self.server.server_address]
                        self.reply(200, {"id": api.task_id, "status": "SUCCESS", "output": output, "logs": ["Finished"]})
                elif self.path.startswith("/api/files/videos/clip.mp4"):
                    self.reply(200, MOVIE, "video/mp4")
                else:
                    self.reply(404, {"detail": "not found"})

            def do_POST(self):
                api.headers.append((self.path, dict(self.headers)))
                length = int(self.headers["Content-Length"])
                api.requests.append(json.loads(self.rfile.read(length)))
                self.reply(200, {"id": api.task_id, "status": "PENDING"})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.address = "http://127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def video_api(monkeypatch):
    api = VideoApi()
    monkeypatch.setenv("DDIFFUSION_API_ADDRESS", api.address)
    monkeypatch.setenv("DDIFFUSION_API_KEY", "dd_test_key")
    yield api
    api.close()


def test_video_lines_up_with_start_frame(nuke_session, video_api, fast_polling, asset):
    nuke = nuke_session
    node = dd_nuke.create_video()
    assert node["model"].value() == "mock-video"
    assert node["frames"].value() == 48
    assert (node["width"].value(), node["height"].value()) == (854, 480)
    plate = nuke.nodes.Read(file=asset("inpaint.png"), name="plate")
    node.setInput(0, plate)
    node.setInput(2, plate)
    node["frames"].setValue(30)

    node["generate"].execute()
    nuke.wait_for(lambda: node["status"].value() in ("SUCCESS", "FAILURE"), timeout=30)

    assert node["status"].value() == "SUCCESS", node["logs"].value()
    request = video_api.requests[0]
    assert request["model"] == "mock-video"
    assert request["num_frames"] == 30
    assert base64.b64decode(request["image"]).startswith(b"\x89PNG")
    assert base64.b64decode(request["video"]).startswith(b"FAKE-MOV frames=30")
    assert "last_image" not in request
    movie_renders = [entry for entry in nuke.state().executed if entry[2] == "mov"]
    assert [(entry[3], entry[4]) for entry in movie_renders] == [(1001, 1030)]

    folder = os.path.join(os.path.dirname(nuke.root()["name"].value()), "deferred-diffusion", "DDVideo1")
    result = os.path.join(folder, "DDVideo1.mp4")
    with open(result, "rb") as movie:
        assert movie.read() == MOVIE
    assert os.listdir(os.path.join(folder, "snapshots"))[0].endswith("_DDVideo1.mp4")
    read = node.node("output_read")
    assert read["file"].value() == result.replace("\\", "/")
    assert (read["first"].value(), read["last"].value()) == (1, 48)
    assert node.node("time_offset")["time_offset"].value() == 1000

    api_calls = [headers for path, headers in video_api.headers if not path.startswith("/api/files/")]
    assert len(api_calls) >= 4
    assert all(headers.get("x-user-id") == getpass.getuser() for headers in api_calls)
    assert all(headers.get("x-machine-id") == socket.gethostname() for headers in api_calls)
    assert all(headers.get("Authorization") == "Bearer dd_test_key" for headers in api_calls)


def test_video_optimize_uses_transition_prompt(nuke_session, video_api, fast_polling, asset, monkeypatch):
    nuke = nuke_session
    node = dd_nuke.create_video()
    plate = nuke.nodes.Read(file=asset("inpaint.png"), name="plate")
    node.setInput(0, plate)
    node.setInput(1, plate)
    node["text_model"].setValues(["dev-local"])
    captured = []
    monkeypatch.setattr(dd_nuke.actions, "TaskRunner", lambda *args, **kwargs: captured.append(kwargs) or _Idle())

    node["optimize"].execute()

    assert captured[0]["fields"]["system_prompt"] == "VIDEO_TRANSITION"
    assert len(captured[0]["fields"]["images"]) == 2


class _Idle:
    def start(self):
        return self

    def stop(self):
        pass
