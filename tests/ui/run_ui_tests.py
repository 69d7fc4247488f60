"""Browser tests of the web UI at /ui: headless Chromium, driven through
chromedriver, against a real `ddiffusion serve --dev-models`.

Usage: run_ui_tests.py SERVER_BINARY ARTEFACT_DIR
Prints one line per test and a summary "ui: N passed, N failed"; exits 1 if
any test failed. Screenshots go to ARTEFACT_DIR.
"""

import base64
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.request
import zlib

from webdriver import Browser, wait_for

ADMIN_KEY = "dd_admin_ui_tests_0123456789abcdef0123456789"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def png_bytes(width, height, rgb):
    """A flat-colour PNG, written with zlib so the tests need no imaging package."""
    row = b"\x00" + bytes(rgb) * width
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(row * height)) + chunk(b"IEND", b"")


class Server:
    def __init__(self, binary):
        self.binary = binary
        self.data_dir = tempfile.mkdtemp(prefix="ddiffusion-ui-test-")
        # A Hugging Face cache of its own with the tiny sd-1.5 and sd-xl
        # fixtures, for the models page and a real image-to-image job, and no
        # provider keys, for the settings page.
        hf_home = os.path.join(self.data_dir, "hf")
        self.env = dict(os.environ, DDIFFUSION_ADMIN_KEY=ADMIN_KEY, HF_HOME=hf_home, HF_HUB_OFFLINE="1",
                        OPENAI_API_KEY="", REPLICATE_API_TOKEN="")
        self.env.pop("HF_HUB_CACHE", None)
        subprocess.run([binary, "dev", "fixtures", "sd-1.5", "sd-xl"], env=self.env, capture_output=True, check=True)
        created = subprocess.run(
            [binary, "--data-dir", self.data_dir, "keys", "create", "ui-test"],
            env=self.env, capture_output=True, text=True, check=True,
        )
        match = re.search(r"dd_[A-Za-z0-9]+_[A-Za-z0-9]+", created.stdout + created.stderr)
        if not match:
            raise RuntimeError(f"no key in the output of 'keys create': {created.stdout} {created.stderr}")
        self.key = match.group(0)
        self.address = f"127.0.0.1:{free_port()}"
        self.url = f"http://{self.address}"
        self.log = open(os.path.join(self.data_dir, "server.log"), "a")
        self.start()

    def start(self):
        self.process = subprocess.Popen(
            [self.binary, "--data-dir", self.data_dir, "serve", "--dev-models", "--bind", self.address],
            env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
        )
        wait_for(self._healthy, timeout=30, what="the server's /health")

    def kill(self):
        """Stops the server process at once, keeping its data folder for start()."""
        self.process.kill()
        self.process.wait(timeout=10)

    def _healthy(self):
        try:
            with urllib.request.urlopen(self.url + "/health", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    def api(self, method, path, body=None, key=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method, headers={
            "Authorization": f"Bearer {key or self.key}",
            "Content-Type": "application/json",
            "X-User-Id": "ui-tester",
            "X-Machine-Id": "test-machine",
        })
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def status(self, path, key):
        """Status of a GET of path with key."""
        request = urllib.request.Request(self.url + path, headers={"Authorization": f"Bearer {key}"})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    def raw(self, path):
        """GET without a key and without following redirects: (status, headers, body)."""
        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *arguments):
                return None
        opener = urllib.request.build_opener(NoRedirect)
        try:
            with opener.open(self.url + path, timeout=10) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read()

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()
        shutil.rmtree(self.data_dir, ignore_errors=True)


class Context:
    def __init__(self, server, browser, artefacts):
        self.server = server
        self.browser = browser
        self.artefacts = artefacts
        self.finished_job = None

    def page(self, path):
        self.browser.open(self.server.url + path)

    def path(self):
        return self.browser.script("return location.pathname;")

    def status_of_row(self, job_id):
        return self.browser.text(f'tr[data-id="{job_id}"] td.status')

    def screenshot(self, name):
        path = os.path.join(self.artefacts, name + ".png")
        self.browser.screenshot(path)
        size = os.path.getsize(path)
        assert size > 10_000, f"screenshot {path} has {size} bytes; the page looks blank"


def test_static_files_served_without_key(context):
    server = context.server
    status, headers, body = server.raw("/ui")
    assert status == 200, f"/ui returned {status}"
    assert b"ddiffusion-ui" in body, "/ui is not the built index.html; run make ui"
    status, headers, _ = server.raw("/ui/ddiffusion-ui_bg.wasm")
    assert status == 200, f"the wasm file returned {status}"
    assert headers["Content-Type"] == "application/wasm", f"wasm served as {headers['Content-Type']}"
    status, _, body = server.raw("/ui/tasks/00000000-0000-0000-0000-000000000000")
    assert status == 200, f"a client-side route returned {status}"
    assert b"ddiffusion-ui" in body, "a client-side route did not return index.html"
    status, headers, _ = server.raw("/")
    assert status in (301, 302, 303, 307, 308), f"/ returned {status}, not a redirect"
    assert headers["Location"].endswith("/docs"), f"/ redirects to {headers['Location']}, not /docs"


def test_wrong_key_rejected(context):
    browser = context.browser
    context.page("/ui")
    wait_for(lambda: browser.text("#sign-in") is not None, what="the sign-in form")
    browser.type("#api-key", "dd_000000000000_wrong")
    browser.click("#sign-in")
    message = wait_for(lambda: browser.text("p.error"), what="the error message of a wrong key")
    assert "403" in message, f"unexpected message for a wrong key: {message}"


def test_sign_in(context):
    browser = context.browser
    context.page("/ui")
    wait_for(lambda: browser.text("#api-key") is not None, what="the sign-in form")
    browser.script("document.querySelector('#api-key').value = '';")
    browser.type("#api-key", context.server.key)
    browser.click("#sign-in")
    wait_for(lambda: browser.text("header nav") is not None, what="the signed-in header")
    stored = browser.script("return localStorage.getItem('ddiffusion.api_key');")
    assert stored == context.server.key, "the key is not kept in local storage"


def test_image_form_job_runs(context, input_image):
    browser = context.browser
    browser.click('header nav a[href="/ui/generate"]')
    wait_for(lambda: browser.text('#image-model option[value="dev-local"]') is not None, what="the image models")
    browser.click('#image-model option[value="dev-local"]')
    wait_for(lambda: "text to image" in (browser.text("#image-capabilities") or ""), what="the model's capabilities")
    browser.type("#image-prompt", "steps=20 step_ms=100")
    browser.type("#image-input", input_image)
    browser.click("#image-submit")
    wait_for(lambda: context.path().startswith("/ui/tasks/"), what="the task page after submitting")
    job_id = context.path().rsplit("/", 1)[1]

    counts = []
    progress = []
    def finished():
        logs = browser.text("#logs") or ""
        counts.append(len([line for line in logs.splitlines() if line.strip()]))
        value = browser.script("const p = document.querySelector('#task-progress'); return p ? p.value : null;")
        if value is not None:
            progress.append(value)
        return browser.text("#task-status") == "SUCCESS"
    wait_for(finished, timeout=60, interval=0.1, what="the job to succeed on its task page")
    distinct = sorted(set(counts))
    assert len(distinct) >= 3, f"the logs did not grow while the job ran: line counts seen {distinct}"
    assert any(0 < value < 1 for value in progress), f"the progress bar never showed a partial value: {sorted(set(progress))}"
    wait_for(lambda: browser.script(
        "const i = document.querySelector('img.output-image'); return i && i.complete && i.naturalWidth > 0;"
    ), what="the output image to load")
    assert "image" in (browser.text("#task-request") or ""), "the task page does not show the request"
    assert browser.script(
        "const i = document.querySelector('#task-inputs img.input-image'); return i && i.complete && i.naturalWidth === 96;"
    ), "the task page does not show the input image as a thumbnail"
    context.screenshot("task-page")
    response = context.server.api("GET", f"/api/images/{job_id}")
    assert response["status"] == "SUCCESS", f"the API says {response['status']}"
    context.finished_job = job_id


def test_sdxl_form_job_with_input(context, input_image):
    """The tiny random-weight sd-xl through the real model-loading path, from the form."""
    browser = context.browser
    browser.click('header nav a[href="/ui/generate"]')
    wait_for(lambda: browser.text('#image-model option[value="sd-xl"]') is not None, what="sd-xl in the image models")
    browser.click('#image-model option[value="sd-xl"]')
    wait_for(lambda: "image to image" in (browser.text("#image-capabilities") or ""), what="sd-xl's capabilities")
    browser.type("#image-prompt", "a lighthouse at dusk")
    for field, value in (("#image-strength", "1"), ("#image-steps", "4"), ("#image-guidance", "1"), ("#image-seed", "7")):
        browser.clear(field)
        browser.type(field, value)
    browser.type("#image-input", input_image)
    browser.click("#image-submit")
    wait_for(lambda: context.path().startswith("/ui/tasks/"), what="the task page of the sd-xl job")
    job_id = context.path().rsplit("/", 1)[1]

    progress = []
    def finished():
        value = browser.script("const p = document.querySelector('#task-progress'); return p ? p.value : null;")
        if value is not None:
            progress.append(value)
        return browser.text("#task-status") in ("SUCCESS", "FAILURE")
    wait_for(finished, timeout=300, interval=0.1, what="the sd-xl job to finish on its task page")
    job = context.server.api("GET", f"/api/images/{job_id}")
    assert job["status"] == "SUCCESS", f"the sd-xl job ended {job['status']}: {job.get('error_message')}"
    logs = browser.text("#logs") or ""
    assert "Context created sd-xl, 96x64, image-to-image" in logs, f"the logs lack the sd-xl context line: {logs}"
    # The tiny model runs its steps faster than the page is polled, so the timed
    # dev-local job checks partial values. Here the step lines and the full bar are checked.
    assert "Inference step 4/4 (100%)" in logs, f"the logs lack the last step: {logs}"
    assert progress and progress[-1] == 1, f"the progress bar did not end full: {progress[-5:]}"
    wait_for(lambda: browser.script(
        "const i = document.querySelector('img.output-image'); return i && i.complete && i.naturalWidth === 96;"
    ), what="the 96 pixel wide sd-xl output to load")
    context.screenshot("task-page-sd-xl")


def test_queue_updates_live(context):
    browser = context.browser
    browser.click('header nav a[href="/ui"]')
    wait_for(lambda: browser.text("#queue") is not None, what="the queue table")
    browser.script("window.__same_page = true;")
    job = context.server.api("POST", "/api/images", {"model": "dev-local", "prompt": "steps=20 step_ms=100", "width": 64, "height": 64})
    job_id = job["id"]
    wait_for(lambda: context.status_of_row(job_id) is not None, what="the new job's row")
    seen = []
    def done():
        status = context.status_of_row(job_id)
        seen.append(browser.script(f'const p = document.querySelector(\'tr[data-id="{job_id}"] progress\'); return p ? p.value : null;'))
        return status == "SUCCESS"
    wait_for(done, timeout=60, what="the row to show SUCCESS")
    assert browser.script("return window.__same_page === true;"), "the page reloaded instead of updating"
    assert any(value is not None and 0 < value < 1 for value in seen), "the row's progress bar never moved"
    source = browser.text(f'tr[data-id="{job_id}"]') or ""
    assert "ui-tester@test-machine" in source, f"the row does not show the user and machine: {source}"
    context.screenshot("queue")


def test_cancel_from_queue(context):
    browser = context.browser
    job = context.server.api("POST", "/api/images", {"model": "dev-local", "prompt": "steps=300 step_ms=100", "width": 64, "height": 64})
    job_id = job["id"]
    wait_for(lambda: context.status_of_row(job_id) == "STARTED", timeout=30, what="the slow job to start")
    browser.click(f'tr[data-id="{job_id}"] button.cancel')
    wait_for(lambda: context.status_of_row(job_id) == "REVOKED", timeout=30, what="the row to show REVOKED")
    response = context.server.api("GET", f"/api/images/{job_id}")
    assert response["status"] == "REVOKED", f"the API says {response['status']}"


def test_run_again_for_api_job(context):
    """A job sent by another client runs again from its queue row, input image included."""
    browser = context.browser
    browser.click('header nav a[href="/ui"]')
    wait_for(lambda: browser.text("#queue") is not None, what="the queue table")
    plate = base64.b64encode(png_bytes(40, 24, (10, 200, 90))).decode()
    body = {"model": "dev-local", "prompt": "steps=2 step_ms=10", "width": 64, "height": 64, "image": plate}
    first = context.server.api("POST", "/api/images", body)["id"]
    wait_for(lambda: context.status_of_row(first) == "SUCCESS", timeout=30, what="the API job to succeed")
    browser.click(f'tr[data-id="{first}"] button.run-again')
    wait_for(lambda: context.path().startswith("/ui/tasks/") and not context.path().endswith(first),
             what="the task page of the job run again")
    second = context.path().rsplit("/", 1)[1]
    wait_for(lambda: browser.text("#task-status") == "SUCCESS", timeout=30, what="the job run again to succeed")
    again = context.server.api("GET", f"/api/jobs/{second}")
    assert again["request"]["prompt"] == body["prompt"], f"the prompt changed: {again['request']}"
    assert "/api/files/" in again["request"].get("image", ""), f"the input image was not sent again: {again['request']}"


def test_banner_while_server_down(context):
    browser = context.browser
    context.page("/ui")
    wait_for(lambda: browser.text("#queue") is not None, what="the queue table")
    assert browser.text("#connection-banner") is None, "the banner shows while the server is up"
    context.server.kill()
    try:
        wait_for(lambda: browser.text("#connection-banner") is not None, timeout=15, what="the connection banner")
    finally:
        context.server.start()
    wait_for(lambda: browser.text("#connection-banner") is None, timeout=15, what="the banner to go after reconnecting")
    job = context.server.api("POST", "/api/images", {"model": "dev-local", "prompt": "steps=2 step_ms=10", "width": 64, "height": 64})
    wait_for(lambda: context.status_of_row(job["id"]) == "SUCCESS", timeout=30, what="a new job to show after reconnecting")


def test_gallery_shows_outputs(context):
    assert context.finished_job, "needs the job of the image form test"
    browser = context.browser
    browser.click('header nav a[href="/ui/gallery"]')
    wait_for(lambda: browser.script(
        f'const a = document.querySelector(\'#gallery a[href="/ui/tasks/{context.finished_job}"]\'); return a !== null;'
    ), what="the image form job in the gallery")
    wait_for(lambda: browser.script(
        "return [...document.querySelectorAll('#gallery img')].some(i => i.complete && i.naturalWidth > 0);"
    ), what="an output image to load in the gallery")
    prompt = browser.text("#gallery .prompt") or ""
    assert "steps=" in prompt, f"the gallery does not show the prompt sent from this browser: {prompt!r}"
    context.screenshot("gallery")

    browser.click("#gallery a.use-as-input")
    wait_for(lambda: browser.script(
        "const i = document.querySelector('#image-chosen img'); return i && i.complete && i.naturalWidth > 0;"
    ), what="the gallery output as the input of the image form")
    wait_for(lambda: browser.text('#image-model option[value="dev-local"]') is not None, what="the image models")
    browser.click('#image-model option[value="dev-local"]')
    browser.type("#image-prompt", "steps=2 step_ms=10")
    browser.click("#image-submit")
    wait_for(lambda: context.path().startswith("/ui/tasks/"), what="the task page of the job with the reused input")
    wait_for(lambda: browser.script(
        "const i = document.querySelector('#task-inputs img.input-image'); return i && i.complete && i.naturalWidth > 0;"
    ), what="the reused input on the new task page")
    wait_for(lambda: browser.text("#task-status") == "SUCCESS", timeout=30, what="the job with the reused input to succeed")


def test_settings_profiles_and_client_lines(context):
    browser = context.browser
    browser.click('header nav a[href="/ui/settings"]')
    wait_for(lambda: browser.text("#client-key") is not None, what="the settings page")
    assert browser.text("#client-key") == f"DDIFFUSION_API_KEY={context.server.key}", "wrong key line"
    assert browser.text("#client-address") == f"DDIFFUSION_API_ADDRESS={context.server.url}", "wrong address line"

    browser.type("#profile-name", "nowhere")
    browser.type("#profile-url", "http://127.0.0.1:9")
    # Changing a profile takes the admin key, because a new address would
    # receive the stored key. Without it the form shows an error and saves nothing.
    browser.click("#profile-form button[type=submit]")
    rejection = wait_for(lambda: browser.text("p.error"), what="the error of saving without the admin key")
    assert "admin key" in rejection, f"the error does not ask for the admin key: {rejection}"
    assert context.server.api("GET", "/api/profiles") == [], "a profile was saved without the admin key"
    browser.script(f"localStorage.setItem('ddiffusion.admin_key', '{ADMIN_KEY}');")
    browser.click("#profile-form button[type=submit]")
    wait_for(lambda: "nowhere" in (browser.text("#profiles tbody") or ""), what="the saved profile in the list")
    browser.click("#profiles tbody button.secondary")
    message = wait_for(lambda: browser.text("p.error"), timeout=60, what="the error of checking an unreachable profile")
    assert "nowhere" in message, f"the check error does not name the profile: {message}"
    browser.click("#profiles tbody button.danger")
    wait_for(lambda: "nowhere" not in browser.text("#profiles tbody"), what="the profile to be removed")
    assert browser.text("p.error") is None, "the error of the check still shows after the removal"
    assert context.server.api("GET", "/api/profiles") == [], "the server still has the profile"
    browser.script("localStorage.removeItem('ddiffusion.admin_key');")


def test_models_page_lists_catalogue(context):
    browser = context.browser
    browser.click('header nav a[href="/ui/models"]')
    wait_for(lambda: "sd-xl" in (browser.text("#catalogue") or ""), what="the model catalogue")
    catalogue = browser.text("#catalogue")
    assert "gpt-image-1" in catalogue, "the catalogue lacks the external image models"
    assert "runs at the provider" in catalogue, "external models are not marked as such"


def test_models_page_size_and_delete(context):
    browser = context.browser
    browser.click('header nav a[href="/ui/models"]')
    row = 'tr[data-model="sd-1.5"]'
    wait_for(lambda: browser.text(f"{row} td.state") == "installed", what="sd-1.5 listed as installed")
    size = browser.text(f"{row} td.size")
    assert re.fullmatch(r"[0-9.]+ (KiB|MiB)", size), f"the size is not in binary units: {size!r}"
    assert browser.text(f"{row} td.licence") == "creativeml-openrail-m", "the licence is missing"
    assert browser.text('tr[data-model="gpt-image-1"] td.state') == "not configured", "the external model's state is wrong"
    context.screenshot("models")

    browser.script("window.confirm = () => true;")
    browser.click(f'{row} button.delete')
    wait_for(lambda: browser.text(f"{row} td.state") == "not installed", what="sd-1.5 listed as not installed after the delete")
    assert "freed" in (browser.text("p.notice") or ""), "no message after the delete"
    listed = [model for model in context.server.api("GET", "/api/models") if model["name"] == "sd-1.5"]
    assert listed[0]["installed"] is False, f"the server still lists sd-1.5 as installed: {listed}"


def test_settings_admin_keys_and_provider_key(context):
    browser = context.browser
    server = context.server
    browser.click('header nav a[href="/ui/settings"]')
    wait_for(lambda: browser.text("#admin-unlock") is not None, what="the admin key form")
    browser.type("#admin-key", ADMIN_KEY)
    browser.click("#admin-unlock")
    wait_for(lambda: browser.text("#api-keys") is not None, what="the API keys unlocked by the admin key")
    stored = browser.script("return localStorage.getItem('ddiffusion.admin_key');")
    assert stored == ADMIN_KEY, "the admin key is not kept in local storage"

    browser.type("#key-name", "made in the ui")
    browser.click("#key-create")
    new_key = wait_for(lambda: browser.text("#new-key-value"), what="the new API key shown once")
    assert new_key.startswith("dd_"), f"not a key: {new_key}"
    assert server.status("/api/system", new_key) == 200, "the new key is not accepted by the server"
    row = 'tr[data-key-name="made in the ui"]'
    wait_for(lambda: browser.text(row) is not None, what="the new key in the list")
    browser.click(f"{row} button.revoke")
    wait_for(lambda: browser.text(row) is None, what="the revoked key to leave the list")
    assert server.status("/api/system", new_key) == 403, "the revoked key still works"

    secret = "sk-ui-test-secret-0123456789"
    openai = 'tr[data-provider="openai"]'
    assert browser.text(f"{openai} td.key-state").startswith("not configured"), "OpenAI starts configured"
    browser.type(f"{openai} input.provider-key", secret)
    browser.click(f"{openai} button.save-provider-key")
    wait_for(lambda: (browser.text(f"{openai} td.key-state") or "").startswith("configured"),
             what="OpenAI shown as configured")
    page = browser.script("return document.documentElement.outerHTML + document.querySelector(arguments[0]).value;",
                          f"{openai} input.provider-key")
    assert secret not in page, "the provider key is shown on the page after saving"
    settings = server.api("GET", "/api/admin/settings", key=ADMIN_KEY)
    assert settings["provider_keys"][0]["configured"] is True, f"the server has no OpenAI key: {settings}"
    assert secret not in json.dumps(settings), "the settings response contains the key"
    listed = [model for model in server.api("GET", "/api/models") if model["name"] == "gpt-image-1"]
    assert listed[0]["installed"] is True, "gpt-image-1 is not configured without a restart"

    browser.script("document.querySelector('#setting-bind').value = '';")
    browser.type("#setting-bind", "0.0.0.0:5000")
    wait_for(lambda: browser.text("#bind-warning") is not None, what="the warning before saving a non-loopback address")
    browser.click("#settings-save")
    message = wait_for(lambda: browser.text("#settings-form p.notice"), what="the saved message")
    assert "applies after a restart" in message, f"unexpected message: {message}"
    assert "other machines" in (browser.text("#settings-warning") or ""), "the server's warning is not shown"
    context.screenshot("settings-admin")

    # The desktop app stores the admin key before the page opens; the page uses it at once.
    browser.open("about:blank")
    context.page("/ui/settings")
    wait_for(lambda: browser.text("#api-keys") is not None, what="the admin section unlocked by the stored key")


def test_drop_input_image_on_generate(context):
    browser = context.browser
    server = context.server
    browser.click('header nav a[href="/ui/generate"]')
    wait_for(lambda: browser.text('#image-model option[value="dev-local"]') is not None, what="the image models")
    browser.click('#image-model option[value="dev-local"]')
    browser.script("document.querySelector('#image-prompt').value = '';")
    browser.type("#image-prompt", "steps=2 step_ms=10")
    browser.type("#image-negative-prompt", "blurry")
    assert browser.text("#references-drop") is not None, "dev-local takes references, but the form has no field for them"
    assert browser.text("#image-scheduler") is None, "dev-local lists no schedulers, but the form offers a choice"
    dropped = png_bytes(40, 24, (10, 200, 90))
    browser.script("""
        const bytes = Uint8Array.from(atob(arguments[0]), c => c.charCodeAt(0));
        const transfer = new DataTransfer();
        transfer.items.add(new File([bytes], 'dropped.png', {type: 'image/png'}));
        const zone = document.querySelector('#image-drop');
        zone.dispatchEvent(new DragEvent('dragover', {dataTransfer: transfer, bubbles: true, cancelable: true}));
        zone.dispatchEvent(new DragEvent('drop', {dataTransfer: transfer, bubbles: true, cancelable: true}));
    """, base64.b64encode(dropped).decode())
    wait_for(lambda: browser.script(
        "const i = document.querySelector('#image-chosen img'); return i && i.complete && i.naturalWidth === 40;"
    ), what="the dropped image shown in the form")
    browser.click("#image-submit")
    wait_for(lambda: context.path().startswith("/ui/tasks/"), what="the task page of the job with the dropped image")
    job_id = context.path().rsplit("/", 1)[1]
    job = server.api("GET", f"/api/jobs/{job_id}")
    with urllib.request.urlopen(job["request"]["image"], timeout=10) as response:
        stored = response.read()
    assert stored == dropped, "the job's input is not the dropped image"
    assert job["request"]["negative_prompt"] == "blurry", f"the negative prompt is missing: {job['request']}"
    assert "scheduler" not in job["request"], f"a scheduler was sent for dev-local: {job['request']}"
    wait_for(lambda: browser.text("#task-status") == "SUCCESS", timeout=30, what="the job with the dropped image to succeed")

    browser.click('header nav a[href="/ui/generate"]')
    wait_for(lambda: browser.text('#image-model option[value="sd-1.5"]') is not None, what="the image models")
    browser.click('#image-model option[value="sd-1.5"]')
    choices = wait_for(lambda: browser.script(
        "const s = document.querySelector('#image-scheduler'); return s ? [...s.options].map(o => o.value) : null;"
    ), what="the scheduler choice of sd-1.5")
    assert choices[0] == "" and "euler_a" in choices, f"unexpected scheduler choices: {choices}"
    assert browser.text("#references-drop") is None, "sd-1.5 takes no references, but the form has a field for them"


# A stand-in for the desktop app's `window.__TAURI__.core.invoke`: it records
# each command and returns a PNG from pick_input_files.
FAKE_TAURI = """
    window.__desktopCalls = [];
    const picked = arguments[0];
    window.__TAURI__ = {core: {invoke: (command, args) => {
        window.__desktopCalls.push([command, args === undefined ? null : args]);
        if (command === 'pick_input_files') {
            return Promise.resolve([{name: 'picked.png', mime: 'image/png', base64: picked}]);
        }
        return Promise.resolve(null);
    }}};
"""


def test_desktop_commands_through_invoke(context):
    browser = context.browser
    server = context.server
    picked = png_bytes(32, 16, (30, 60, 220))
    browser.script(FAKE_TAURI, base64.b64encode(picked).decode())
    calls = lambda: browser.script("return window.__desktopCalls;")

    browser.click('header nav a[href="/ui/gallery"]')
    wait_for(lambda: browser.text("#open-output-folder") is not None, what="the Open folder button in the desktop app")
    browser.click("#open-output-folder")
    wait_for(lambda: ["open_output_folder", None] in calls(), what="the open_output_folder command")
    wait_for(lambda: browser.text("#gallery button.reveal-file") is not None, what="a Reveal file button")
    browser.click("#gallery button.reveal-file")
    reveal = wait_for(lambda: [args for command, args in calls() if command == "reveal_output"],
                      what="the reveal_output command")
    file_id = reveal[0]["fileId"]
    assert re.fullmatch(r"images/[^?]+\.png", file_id), f"fileId is not the part after /api/files/: {file_id}"
    browser.click("#gallery button.copy-link")
    copied = wait_for(lambda: [args for command, args in calls() if command == "copy_text"], what="the copy_text command")
    assert f"/api/files/{file_id}" in copied[0]["text"], f"copy_text got {copied[0]}"

    browser.click('header nav a[href="/ui/generate"]')
    wait_for(lambda: browser.text('#image-model option[value="dev-local"]') is not None, what="the image models")
    assert browser.script("return document.querySelector('#image-input');") is None, \
        "the browser's file input shows in the desktop app"
    browser.click('#image-model option[value="dev-local"]')
    browser.script("document.querySelector('#image-prompt').value = '';")
    browser.type("#image-prompt", "steps=2 step_ms=10")
    browser.click("#image-drop button")
    wait_for(lambda: browser.script(
        "const i = document.querySelector('#image-chosen img'); return i && i.complete && i.naturalWidth === 32;"
    ), what="the picked file shown in the form")
    assert ["pick_input_files", {"multiple": False}] in calls(), f"pick_input_files not called as expected: {calls()}"
    browser.click("#image-submit")
    wait_for(lambda: context.path().startswith("/ui/tasks/"), what="the task page of the job with the picked file")
    job_id = context.path().rsplit("/", 1)[1]
    job = server.api("GET", f"/api/jobs/{job_id}")
    with urllib.request.urlopen(job["request"]["image"], timeout=10) as response:
        assert response.read() == picked, "the job's input is not the picked file"
    wait_for(lambda: browser.text("#task-status") == "SUCCESS", timeout=30, what="the job with the picked file to succeed")
    wait_for(lambda: browser.text("#outputs button.reveal-file") is not None, what="Reveal file on the task page")
    context.screenshot("desktop-task-page")

    # A page load without the stand-in is a plain browser again.
    browser.open("about:blank")
    context.page("/ui/gallery")
    wait_for(lambda: browser.text("#gallery") is not None, what="the gallery in a plain browser")
    assert browser.text("#open-output-folder") is None, "Open folder shows in a plain browser"
    assert browser.text("#gallery button.reveal-file") is None, "Reveal file shows in a plain browser"


def test_task_page_opened_directly(context):
    assert context.finished_job, "needs the job of the image form test"
    browser = context.browser
    browser.open("about:blank")
    context.page(f"/ui/tasks/{context.finished_job}")
    wait_for(lambda: browser.text("#task-status") == "SUCCESS", what="the task page opened by its URL")
    wait_for(lambda: browser.script(
        "const i = document.querySelector('img.output-image'); return i && i.complete && i.naturalWidth > 0;"
    ), what="the output image on the task page opened by its URL")
    logs = browser.text("#logs") or ""
    assert "Finished" in logs, f"the logs are incomplete: {logs[-200:]}"


def main():
    binary, artefacts = sys.argv[1], sys.argv[2]
    os.makedirs(artefacts, exist_ok=True)
    chromium = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    chromedriver = shutil.which("chromedriver")
    if not chromium or not chromedriver:
        print("error: chromium and chromedriver are needed (Debian: apt-get install chromium chromium-driver)")
        print("ui: 0 passed, 1 failed")
        return 1

    input_image = os.path.join(artefacts, "input.png")
    with open(input_image, "wb") as file:
        file.write(png_bytes(96, 64, (200, 120, 40)))

    driver_port = free_port()
    driver = subprocess.Popen([chromedriver, f"--port={driver_port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = Server(binary)
    browser = None
    passed = failed = 0
    try:
        wait_for(lambda: socket.create_connection(("127.0.0.1", driver_port), timeout=1).close() or True,
                 timeout=20, what="chromedriver")
        browser = Browser(f"http://127.0.0.1:{driver_port}", chromium)
        context = Context(server, browser, artefacts)
        tests = [
            (test_static_files_served_without_key, ()),
            (test_wrong_key_rejected, ()),
            (test_sign_in, ()),
            (test_image_form_job_runs, (input_image,)),
            (test_queue_updates_live, ()),
            (test_cancel_from_queue, ()),
            (test_run_again_for_api_job, ()),
            (test_gallery_shows_outputs, ()),
            (test_sdxl_form_job_with_input, (input_image,)),
            (test_settings_profiles_and_client_lines, ()),
            (test_models_page_lists_catalogue, ()),
            (test_models_page_size_and_delete, ()),
            (test_settings_admin_keys_and_provider_key, ()),
            (test_drop_input_image_on_generate, ()),
            (test_desktop_commands_through_invoke, ()),
            (test_task_page_opened_directly, ()),
            (test_banner_while_server_down, ()),
        ]
        for test, arguments in tests:
            started = time.monotonic()
            try:
                test(context, *arguments)
                passed += 1
                print(f"ui test {test.__name__} ... ok ({time.monotonic() - started:.1f} s)", flush=True)
            except Exception:
                failed += 1
                print(f"ui test {test.__name__} ... FAILED", flush=True)
                traceback.print_exc()
                try:
                    browser.screenshot(os.path.join(artefacts, f"failed-{test.__name__}.png"))
                except Exception:
                    pass
    finally:
        if browser:
            browser.quit()
        driver.terminate()
        driver.wait(timeout=10)
        if failed:
            with open(os.path.join(server.data_dir, "server.log")) as log:
                print("server log (last lines):\n" + "".join(log.readlines()[-30:]))
        server.stop()
    print(f"ui: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
