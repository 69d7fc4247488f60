"""A small W3C WebDriver client over the standard library, enough to drive
chromedriver in the UI tests without third-party packages."""

import base64
import json
import time
import urllib.error
import urllib.request

ELEMENT_KEY = "element-6066-11e4-a52e-4f735466cecf"


class WebDriverError(Exception):
    pass


class Browser:
    """One WebDriver session of headless Chromium."""

    def __init__(self, driver_url, chromium_binary):
        self.driver_url = driver_url.rstrip("/")
        options = {
            "binary": chromium_binary,
            "args": [
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--window-size=1280,1000",
            ],
        }
        capabilities = {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": options}}
        answer = self._request("POST", "/session", {"capabilities": capabilities})
        self.session = answer["sessionId"]

    def _request(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.driver_url + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return json.loads(response.read() or b"{}").get("value")
        except urllib.error.HTTPError as error:
            detail = json.loads(error.read() or b"{}").get("value", {})
            raise WebDriverError(f"{method} {path}: {detail.get('error')}: {detail.get('message', '')[:300]}") from None

    def command(self, method, path, body=None):
        return self._request(method, f"/session/{self.session}{path}", body)

    def open(self, url):
        self.command("POST", "/url", {"url": url})

    def script(self, source, *arguments):
        return self.command("POST", "/execute/sync", {"script": source, "args": list(arguments)})

    def find(self, css):
        return self.command("POST", "/element", {"using": "css selector", "value": css})[ELEMENT_KEY]

    def click(self, css):
        self.command("POST", f"/element/{self.find(css)}/click", {})

    def type(self, css, text):
        self.command("POST", f"/element/{self.find(css)}/value", {"text": text})

    def clear(self, css):
        self.command("POST", f"/element/{self.find(css)}/clear", {})

    def text(self, css):
        """Text of the first element matching css, or None when there is none."""
        return self.script("const e = document.querySelector(arguments[0]); return e ? e.textContent : null;", css)

    def screenshot(self, path):
        with open(path, "wb") as file:
            file.write(base64.b64decode(self.command("GET", "/screenshot")))

    def quit(self):
        try:
            self.command("DELETE", "")
        except (WebDriverError, OSError):
            pass


def wait_for(condition, timeout=20.0, interval=0.1, what="condition"):
    """Polls condition() until it returns a true value, which is returned.
    WebDriver errors count as not yet true, because the page re-renders
    elements while it updates."""
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        try:
            value = condition()
            if value:
                return value
        except WebDriverError as error:
            last_error = error
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}" + (f" (last error: {last_error})" if last_error else ""))
