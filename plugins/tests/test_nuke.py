"""The Nuke nodes against a real `ddiffusion serve`, driven through the fake `nuke` module."""

import getpass
import os
import socket
import time
import uuid

import pytest
from PIL import Image

import images
from conftest import PLUGINS, free_port

import dd_nuke
import dd_nuke.actions
from ddiffusion_plugin.status import STATUS_COLOURS, rgba_int


def colour(status):
    return rgba_int(STATUS_COLOURS[status])


def source_read(nuke, path, name):
    return nuke.nodes.Read(file=path, name=name)


def small_plate(tmp_path, asset, size=64):
    path = str(tmp_path / "plate_small.png")
    Image.open(asset("inpaint.png")).convert("RGB").resize((size, size)).save(path)
    return path


def output_folder(nuke, node):
    return os.path.join(os.path.dirname(nuke.root()["name"].value()), "deferred-diffusion", node.name())


def test_menu_adds_three_nodes(nuke_session):
    nuke = nuke_session
    nuke.pluginAddPath(os.path.join(PLUGINS, "nuke"))
    for script in ("init.py", "menu.py"):
        with open(os.path.join(PLUGINS, "nuke", script)) as source:
            exec(compile(source.read(), script, "exec"), {"__name__": "__main__"})

    submenu = nuke.menu("Nodes").findItem("DeferredDiffusion")
    assert submenu is not None
    assert sorted(submenu.items) == ["DDImage", "DDText", "DDVideo"]
    assert nuke.state().plugin_paths[1:] == [os.path.join(PLUGINS, "nuke", "python"), os.path.join(PLUGINS, "common")]
    assert nuke.state().script_load_callbacks == [dd_nuke.actions.resume_all]


def test_image_knobs_and_model_menu(nuke_session, api_env):
    node = dd_nuke.create_image()

    assert node.name() == "DDImage1"
    entries = node["model"].values()
    assert "sd-xl" in entries
    assert "external/dev-external" in entries
    assert node["model"].value() == "sd-xl"
    assert node["prompt"].value() == "Detailed, 8k, photorealistic"
    assert (node["width"].value(), node["height"].value()) == (1280, 720)
    assert node["strength"].value() == 0.5
    assert node["seed"].value() == 42
    assert "dev-local" in node["text_model"].values()
    for knob in ("generate", "cancel", "task_id", "get_task", "optimize", "documentation", "task_monitor", "logs", "use_exr"):
        assert node.knob(knob) is not None, knob
    assert [child.name() for child in node.children if child.Class() == "Input"] == ["image", "mask", "a", "b", "c"]
    assert node.node("output_read") is not None


def test_image_inpaint_end_to_end(nuke_session, api_env, fast_polling, asset):
    nuke = nuke_session
    node = dd_nuke.create_image()
    node.setInput(0, source_read(nuke, asset("inpaint.png"), "plate"))
    node.setInput(1, source_read(nuke, asset("inpaint_mask.png"), "matte"))
    node["prompt"].setValue("a red wooden door")
    node["steps"].setValue(2)

    started = time.monotonic()
    node["generate"].execute()
    assert time.monotonic() - started < 2.0, "Generate must not wait for the server"
    assert node["label"].value() == "[SUBMITTING]"
    assert [entry[2] for entry in nuke.state().executed] == ["png", "png"]

    nuke.wait_for(lambda: node["status"].value() in ("SUCCESS", "FAILURE"), timeout=120)
    assert node["status"].value() == "SUCCESS", node["logs"].value()

    task_id = node["task_id"].value()
    assert str(uuid.UUID(task_id)) == task_id
    labels = node["label"].history
    assert any(label.startswith("[STARTED]") for label in labels)
    assert any("Inference step" in label for label in labels)
    assert node["label"].value() == ""
    colours = node["tile_color"].history
    assert colour("STARTED") in colours
    assert colours[-1] == colour("SUCCESS")
    assert "Inference step" in node["logs"].value()

    folder = output_folder(nuke, node)
    result = os.path.join(folder, "DDImage1.01001.png")
    assert Image.open(result).size == (512, 512)
    snapshots = os.listdir(os.path.join(folder, "snapshots"))
    assert len(snapshots) == 1
    assert snapshots[0].endswith("_DDImage1.01001.png")
    with open(result, "rb") as first, open(os.path.join(folder, "snapshots", snapshots[0]), "rb") as second:
        assert first.read() == second.read()

    read = node.node("output_read")
    assert read["file"].value() == os.path.join(folder, "DDImage1.#####.png").replace("\\", "/")
    assert (read["first"].value(), read["last"].value()) == (1001, 1001)
    assert read["reload"].presses == 1
    assert not os.listdir(os.path.join(os.path.dirname(folder), "tmp")), "captured inputs are removed"

    status, task = api_env.request("GET", "/api/images/" + task_id)
    assert status == 200
    assert task["task_info"]["user_id"] == getpass.getuser()
    assert task["task_info"]["machine_id"] == socket.gethostname()


def test_image_exr_round_trip(nuke_session, api_env, fast_polling, asset, tmp_path):
    nuke = nuke_session
    node = dd_nuke.create_image()
    node.setInput(0, source_read(nuke, small_plate(tmp_path, asset), "plate"))
    node["use_exr"].setValue(True)
    node["strength"].setValue(0.3)
    node["steps"].setValue(2)
    node["generate"].execute()
    assert nuke.state().executed[0][2] == "exr"

    nuke.wait_for(lambda: node["status"].value() in ("SUCCESS", "FAILURE"), timeout=120)
    assert node["status"].value() == "SUCCESS", node["logs"].value()

    folder = output_folder(nuke, node)
    png = os.path.join(folder, "DDImage1.01001.png")
    exr = os.path.join(folder, "DDImage1.01001.exr")
    width, height, rows = images.read_exr(exr)
    assert (width, height) == (64, 64)
    srgb = Image.open(png).convert("RGB").getpixel((10, 20))
    linear = rows[20][10]
    for stored, converted in zip(srgb, linear):
        assert abs(images.srgb_to_linear(stored / 255.0) - converted) < 1e-4
    read = node.node("output_read")
    assert read["file"].value().endswith("DDImage1.#####.exr")
    assert read["colorspace"].value() == "linear"
    assert any(name.endswith("_DDImage1.01001.exr") for name in os.listdir(os.path.join(folder, "snapshots")))


def test_image_cancel_during_run(nuke_session, api_env, fast_polling):
    nuke = nuke_session
    node = dd_nuke.create_image()
    node["model"].setValue("dev-local")
    node["prompt"].setValue("steps=400 step_ms=50")
    node["generate"].execute()
    nuke.wait_for(lambda: node["status"].value() == "STARTED", timeout=60)

    node["cancel"].execute()
    assert node["label"].value() == "[CANCELLING]"
    nuke.wait_for(lambda: node["status"].value() not in dd_nuke.actions.RUNNING_STATUSES, timeout=30)

    assert node["status"].value() == "REVOKED"
    assert node["label"].value() == "[REVOKED]"
    status, task = api_env.request("GET", "/api/images/" + node["task_id"].value())
    assert task["status"] == "REVOKED"
    assert not os.path.exists(output_folder(nuke, node))


def test_image_get_task_after_reopen(nuke_session, api_env, fast_polling):
    nuke = nuke_session
    script = nuke.root()["name"].value()
    node = dd_nuke.create_image()
    node["model"].setValue("dev-local")
    node["prompt"].setValue("steps=15 step_ms=100")
    node["width"].setValue(32)
    node["height"].setValue(16)
    node["generate"].execute()
    nuke.wait_for(lambda: node["task_id"].value() != "", timeout=30)
    task_id = node["task_id"].value()

    # Close the script while the task runs, then reopen it on another frame.
    for runner in list(dd_nuke.actions._RUNNERS.values()):
        runner.stop()
    dd_nuke.actions._RUNNERS.clear()
    nuke.reset(script_path=script, frame=1010)
    reopened = dd_nuke.create_image()
    reopened["task_id"].setValue(task_id)

    reopened["get_task"].execute()
    nuke.wait_for(lambda: reopened["status"].value() in ("SUCCESS", "FAILURE"), timeout=60)

    assert reopened["status"].value() == "SUCCESS", reopened["logs"].value()
    result = os.path.join(output_folder(nuke, reopened), "DDImage1.01010.png")
    assert Image.open(result).size == (32, 16)
    assert reopened.node("output_read")["file"].value().endswith("DDImage1.#####.png")


def test_script_load_resumes_running_tasks(nuke_session, api_env, fast_polling):
    nuke = nuke_session
    status, created = api_env.request("POST", "/api/images", {"model": "dev-local", "prompt": "steps=3", "width": 8, "height": 8})
    assert status == 200
    node = dd_nuke.create_image()
    node["task_id"].setValue(created["id"])
    node["status"].setValue("STARTED")
    idle = dd_nuke.create_image()

    dd_nuke.actions.resume_all()
    nuke.wait_for(lambda: node["status"].value() == "SUCCESS", timeout=60)

    assert idle["status"].value() == ""
    assert os.path.isfile(os.path.join(output_folder(nuke, node), "DDImage1.01001.png"))


def test_server_down_marks_node_failed(nuke_session, fast_polling, monkeypatch):
    nuke = nuke_session
    address = "http://127.0.0.1:%d" % free_port()
    monkeypatch.setenv("DDIFFUSION_API_ADDRESS", address)
    monkeypatch.setenv("DDIFFUSION_API_KEY", "dd_unused_key")

    node = dd_nuke.create_image()
    assert node["model"].values() == [""]
    node["model"].setValues(["sd-xl"])
    started = time.monotonic()
    node["generate"].execute()
    assert time.monotonic() - started < 2.0
    nuke.wait_for(lambda: node["status"].value() == "FAILURE", timeout=20)

    assert "Cannot connect to the Deferred Diffusion server at " + address in node["logs"].value()
    assert node["label"].value().startswith("[ERROR]")
    assert node["tile_color"].value() == colour("FAILURE")
    assert len(nuke.state().messages) == 1
    assert address in nuke.state().messages[0]
    assert dd_nuke.actions._RUNNERS == {}


def test_wrong_key_shows_server_message(nuke_session, api_env, fast_polling, monkeypatch):
    nuke = nuke_session
    node = dd_nuke.create_image()
    monkeypatch.setenv("DDIFFUSION_API_KEY", "dd_000000000000_wrong")
    node["model"].setValue("dev-local")
    node["generate"].execute()
    nuke.wait_for(lambda: node["status"].value() == "FAILURE", timeout=20)

    logs = node["logs"].value()
    assert "HTTP 403" in logs
    assert "Invalid or revoked token" in logs
    assert "DDIFFUSION_API_KEY" in nuke.state().messages[0]


def test_missing_key_fails_before_sending(nuke_session, api_env, fast_polling, monkeypatch):
    nuke = nuke_session
    node = dd_nuke.create_image()
    monkeypatch.setenv("DDIFFUSION_API_KEY", "")
    node["generate"].execute()
    nuke.wait_for(lambda: node["status"].value() == "FAILURE", timeout=20)
    assert "DDIFFUSION_API_KEY is not set" in node["logs"].value()


def test_task_failure_shows_error(nuke_session, api_env, fast_polling):
    nuke = nuke_session
    node = dd_nuke.create_image()
    node["model"].setValue("dev-local")
    node["prompt"].setValue("steps=1 fail=out_of_memory")
    node["generate"].execute()
    nuke.wait_for(lambda: node["status"].value() == "FAILURE", timeout=30)

    assert "out of memory" in node["label"].value()
    assert node["tile_color"].value() == colour("FAILURE")
    assert nuke.state().messages == []


def test_unsaved_script_is_rejected(nuke_session, api_env):
    nuke = nuke_session
    nuke.root()["name"].setValue("")
    node = dd_nuke.create_image()
    node["generate"].execute()

    assert node["status"].value() == "FAILURE"
    assert "The script or scene is not saved" in nuke.state().messages[0]
    assert dd_nuke.actions._RUNNERS == {}


def test_text_node_end_to_end(nuke_session, api_env, fast_polling, asset, tmp_path):
    nuke = nuke_session
    node = dd_nuke.create_text()
    assert node.knob("response") is not None
    node["model"].setValue("dev-local")
    node["prompt"].setValue("describe the plate")
    node.setInput(0, source_read(nuke, small_plate(tmp_path, asset), "plate"))
    node["generate"].execute()
    nuke.wait_for(lambda: node["status"].value() in ("SUCCESS", "FAILURE"), timeout=30)

    assert node["status"].value() == "SUCCESS", node["logs"].value()
    assert node["response"].value() == "describe the plate (1 images)"


def test_optimize_rewrites_prompt(nuke_session, api_env, fast_polling, asset, tmp_path):
    nuke = nuke_session
    node = dd_nuke.create_image()
    node.setInput(0, source_read(nuke, small_plate(tmp_path, asset), "plate"))
    node["text_model"].setValue("dev-local")
    node["prompt"].setValue("a door")
    node["optimize"].execute()
    nuke.wait_for(lambda: node["prompt"].value() != "a door" or node["status"].value() == "FAILURE", timeout=30)

    assert node["prompt"].value() == "a door (1 images)"


def test_help_buttons_open_server_pages(nuke_session, api_env, monkeypatch):
    opened = []
    monkeypatch.setattr(dd_nuke.actions, "open_url", opened.append)
    node = dd_nuke.create_image()
    node["documentation"].execute()
    node["task_id"].setValue("2c8bce03-1ddc-40ab-9eac-47a7f4d02ffd")
    node["task_monitor"].execute()

    assert opened == [
        api_env.address + "/redoc",
        api_env.address + "/ui/tasks/2c8bce03-1ddc-40ab-9eac-47a7f4d02ffd",
    ]


def test_refresh_models_keeps_choice(nuke_session, api_env):
    node = dd_nuke.create_image()
    node["model"].setValue("dev-local")
    node["model"].setValues(["dev-local"])
    node["refresh_models"].execute()

    assert "sd-xl" in node["model"].values()
    assert node["model"].value() == "dev-local"


def test_deleted_node_stops_polling(nuke_session, api_env, fast_polling):
    nuke = nuke_session
    node = dd_nuke.create_image()
    node["model"].setValue("dev-local")
    node["prompt"].setValue("steps=40 step_ms=50")
    node["generate"].execute()
    nuke.wait_for(lambda: node["task_id"].value() != "", timeout=30)
    runner = dd_nuke.actions.active_runner(node)
    nuke.delete(node)

    nuke.wait_for(lambda: not runner.running, timeout=10)
    assert dd_nuke.actions._RUNNERS == {}
