"""The Houdini assets' Python module against a real `ddiffusion serve`, through the fake `hou`."""

import getpass
import os
import socket

from PIL import Image

from conftest import free_port

import dd_houdini.tasks as tasks
from dd_houdini import interface
from ddiffusion_plugin.status import STATUS_COLOURS


def colour(hou, status):
    return hou.Color(STATUS_COLOURS[status])


def small_file(hou, tmp_path, asset, name, source, mode="RGB"):
    path = str(tmp_path / (name + ".png"))
    Image.open(asset(source)).convert(mode).resize((64, 64)).save(path)
    reader = hou.node("/img").createNode("file", name)
    reader.parm("filename").set(path)
    return reader


def new_asset(hou, spec=interface.IMAGE, name="DDImage1"):
    node = hou.create_asset(spec, hou.node("/img"), name)
    tasks.on_created(node)
    return node


def status(node):
    return node.userData(tasks.STATUS_KEY)


def output_folder(hou, node):
    return os.path.join(os.path.dirname(hou.hipFile.path()), "deferred-diffusion", node.name())


def test_model_menu_lists_server_models(houdini_session, api_env):
    hou = houdini_session
    node = new_asset(hou)

    tokens = node.parm("model").menuItems()
    assert "sd-xl" in tokens
    assert "dev-external" in tokens
    assert node.parm("model").evalAsString() == "sd-xl"
    assert "dev-local" in node.parm("text_model").menuItems()
    labels = tasks.model_menu("images")[1::2]
    assert "external/dev-external" in labels


def test_model_menu_keeps_value_when_server_is_down(houdini_session, monkeypatch):
    hou = houdini_session
    monkeypatch.setenv("DDIFFUSION_API_ADDRESS", "http://127.0.0.1:%d" % free_port())
    monkeypatch.setenv("DDIFFUSION_API_KEY", "dd_unused_key")
    node = hou.create_asset(interface.IMAGE, hou.node("/img"), "DDImage1")
    node.parm("model").set("sd-xl")

    assert node.parm("model").menuItems() == ("sd-xl",)


def test_image_inpaint_end_to_end(houdini_session, api_env, fast_polling, asset, tmp_path):
    hou = houdini_session
    node = new_asset(hou)
    node.setInput(0, small_file(hou, tmp_path, asset, "plate", "inpaint.png"))
    node.setInput(1, small_file(hou, tmp_path, asset, "matte", "inpaint_mask.png", mode="L"))
    node.parm("steps").set(2)
    node.parm("prompt").set("a red wooden door")

    node.parm("generate").pressButton()
    assert status(node) == "SUBMITTING"
    assert len(hou.state().renders) == 2
    hou.wait_for(lambda: status(node) in ("SUCCESS", "FAILURE"), timeout=120)

    assert status(node) == "SUCCESS", node.parm("logs").evalAsString()
    assert node.color_history[0] == colour(hou, "SUBMITTING")
    assert node.color() == colour(hou, "SUCCESS")
    assert "Inference step" in node.parm("logs").evalAsString()
    folder = output_folder(hou, node)
    assert Image.open(os.path.join(folder, "DDImage1.01001.png")).size == (64, 64)
    assert len(os.listdir(os.path.join(folder, "snapshots"))) == 1
    assert node.parm("output_image_path").evalAsString() == "$HIP/deferred-diffusion/DDImage1/DDImage1.$F5.png"
    assert node.node("output_reader").parm("reload").presses == 1
    assert not hou.node("/img").node("dd_capture_DDImage1_0"), "the temporary ROP is removed"

    _, task = api_env.request("GET", "/api/images/" + node.parm("task_id").evalAsString())
    assert task["task_info"]["user_id"] == getpass.getuser()
    assert task["task_info"]["machine_id"] == socket.gethostname()


def test_image_cancel_during_run(houdini_session, api_env, fast_polling):
    hou = houdini_session
    node = new_asset(hou)
    node.parm("model").set("dev-local")
    node.parm("prompt").set("steps=400 step_ms=50")
    node.parm("generate").pressButton()
    hou.wait_for(lambda: "Inference step" in (node.userData(tasks.MESSAGE_KEY) or ""), timeout=60)
    assert status(node) == "STARTED"
    assert node.color() == colour(hou, "STARTED")

    node.parm("cancel").pressButton()
    hou.wait_for(lambda: status(node) not in tasks.RUNNING_STATUSES, timeout=30)

    assert status(node) == "REVOKED"
    _, task = api_env.request("GET", "/api/images/" + node.parm("task_id").evalAsString())
    assert task["status"] == "REVOKED"


def test_image_get_task_after_reopen(houdini_session, api_env, fast_polling):
    hou = houdini_session
    hip = hou.hipFile.path()
    node = new_asset(hou)
    node.parm("model").set("dev-local")
    node.parm("prompt").set("steps=15 step_ms=100")
    node.parm("width").set(24)
    node.parm("height").set(16)
    node.parm("generate").pressButton()
    hou.wait_for(lambda: node.parm("task_id").evalAsString() != "", timeout=30)
    task_id = node.parm("task_id").evalAsString()

    for runner in list(tasks._RUNNERS.values()):
        runner.stop()
    tasks._RUNNERS.clear()
    hou.reset(hip_path=hip, frame=1020)
    hou.node("/").createNode("copnet", "img")
    reopened = hou.create_asset(interface.IMAGE, hou.node("/img"), "DDImage1")
    reopened.parm("task_id").set(task_id)

    reopened.parm("get_task").pressButton()
    hou.wait_for(lambda: status(reopened) in ("SUCCESS", "FAILURE"), timeout=60)

    assert status(reopened) == "SUCCESS", reopened.parm("logs").evalAsString()
    assert Image.open(os.path.join(output_folder(hou, reopened), "DDImage1.01020.png")).size == (24, 16)


def test_resume_all_follows_running_tasks(houdini_session, api_env, fast_polling):
    hou = houdini_session
    _, created = api_env.request("POST", "/api/images", {"model": "dev-local", "prompt": "steps=3", "width": 8, "height": 8})
    node = hou.create_asset(interface.IMAGE, hou.node("/img"), "DDImage1")
    node.parm("task_id").set(created["id"])
    node.setUserData(tasks.STATUS_KEY, "PENDING")

    tasks.resume_all([node])
    hou.wait_for(lambda: status(node) == "SUCCESS", timeout=60)

    assert os.path.isfile(os.path.join(output_folder(hou, node), "DDImage1.01001.png"))


def test_server_down_marks_node_failed(houdini_session, fast_polling, monkeypatch):
    hou = houdini_session
    address = "http://127.0.0.1:%d" % free_port()
    monkeypatch.setenv("DDIFFUSION_API_ADDRESS", address)
    monkeypatch.setenv("DDIFFUSION_API_KEY", "dd_unused_key")
    node = hou.create_asset(interface.IMAGE, hou.node("/img"), "DDImage1")
    node.parm("model").set("sd-xl")

    node.parm("generate").pressButton()
    hou.wait_for(lambda: status(node) == "FAILURE", timeout=20)

    assert "Cannot connect to the Deferred Diffusion server at " + address in node.userData(tasks.MESSAGE_KEY)
    assert node.color() == colour(hou, "FAILURE")
    assert address in hou.state().messages[0]


def test_wrong_key_shows_server_message(houdini_session, api_env, fast_polling, monkeypatch):
    hou = houdini_session
    node = new_asset(hou)
    monkeypatch.setenv("DDIFFUSION_API_KEY", "dd_000000000000_wrong")
    node.parm("generate").pressButton()
    hou.wait_for(lambda: status(node) == "FAILURE", timeout=20)

    message = node.userData(tasks.MESSAGE_KEY)
    assert "HTTP 403" in message
    assert "Invalid or revoked token" in message


def test_text_asset_end_to_end(houdini_session, api_env, fast_polling, asset, tmp_path):
    hou = houdini_session
    node = new_asset(hou, interface.TEXT, "DDText1")
    node.parm("model").set("dev-local")
    node.parm("prompt").set("Compare these images.")
    node.setInput(0, small_file(hou, tmp_path, asset, "first", "inpaint.png"))
    node.setInput(1, small_file(hou, tmp_path, asset, "second", "color_v001.jpeg"))

    node.parm("generate").pressButton()
    hou.wait_for(lambda: status(node) in ("SUCCESS", "FAILURE"), timeout=30)

    assert node.parm("response").evalAsString() == "Compare these images. (2 images)"


def test_optimize_rewrites_prompt(houdini_session, api_env, fast_polling):
    hou = houdini_session
    node = new_asset(hou)
    node.parm("text_model").set("dev-local")
    node.parm("prompt").set("a door")

    node.parm("optimize").pressButton()
    hou.wait_for(lambda: node.parm("prompt").evalAsString() != "a door" or status(node) == "FAILURE", timeout=30)

    assert node.parm("prompt").evalAsString() == "a door (0 images)"


def test_help_buttons_open_server_pages(houdini_session, api_env, monkeypatch):
    hou = houdini_session
    opened = []
    monkeypatch.setattr(tasks, "open_url", opened.append)
    node = hou.create_asset(interface.VIDEO, hou.node("/img"), "DDVideo1")
    node.parm("documentation").pressButton()
    node.parm("task_id").set("2c8bce03-1ddc-40ab-9eac-47a7f4d02ffd")
    node.parm("task_monitor").pressButton()

    assert opened == [
        api_env.address + "/redoc",
        api_env.address + "/ui/tasks/2c8bce03-1ddc-40ab-9eac-47a7f4d02ffd",
    ]


def test_asset_specs_match_module(houdini_session):
    for spec in interface.ASSETS.values():
        names = [parm.name for parm in spec.parms]
        assert len(names) == len(set(names)), spec.kind
        assert tasks.KINDS[spec.kind].inputs == spec.inputs
        for parm in spec.parms:
            if parm.callback:
                function = parm.callback.rsplit("tasks.", 1)[1].split("(")[0]
                assert callable(getattr(tasks, function)), function


def test_video_result_and_start_frame(houdini_session, fast_polling, asset, tmp_path, monkeypatch):
    from test_nuke_video import MOVIE, VideoApi

    hou = houdini_session
    api = VideoApi()
    monkeypatch.setenv("DDIFFUSION_API_ADDRESS", api.address)
    monkeypatch.setenv("DDIFFUSION_API_KEY", "dd_test_key")
    try:
        node = new_asset(hou, interface.VIDEO, "DDVideo1")
        assert node.parm("model").evalAsString() == "mock-video"
        node.setInput(0, small_file(hou, tmp_path, asset, "plate", "inpaint.png"))
        node.parm("generate").pressButton()
        hou.wait_for(lambda: status(node) in ("SUCCESS", "FAILURE"), timeout=30)
    finally:
        api.close()

    assert status(node) == "SUCCESS", node.parm("logs").evalAsString()
    assert api.requests[0]["num_frames"] == 48
    assert "image" in api.requests[0]
    with open(os.path.join(output_folder(hou, node), "DDVideo1.mp4"), "rb") as movie:
        assert movie.read() == MOVIE
    assert node.parm("output_video_path").evalAsString() == "$HIP/deferred-diffusion/DDVideo1/DDVideo1.mp4"
    assert node.parm("video_start_frame").evalAsInt() == 1001
