# Entry points for people and CI. `make run` and `make test` install what is
# missing first (see scripts/install-deps.sh).

# .tools/bin holds the web UI's build tools (scripts/install-ui-tools.sh).
export PATH := $(CURDIR)/.tools/bin:$(HOME)/.cargo/bin:$(PATH)
CARGO ?= cargo
BIND ?= 127.0.0.1:5000
ifeq ($(OS),Windows_NT)
BUNDLES ?= msi
else ifeq ($(shell uname -s),Darwin)
BUNDLES ?= dmg
else
BUNDLES ?= deb
endif

.PHONY: deps ui-tools ui build run serve bundle test plugin-test ui-test generate-clients bench bench-desktop lint clean

deps:
	./scripts/install-deps.sh

ui-tools:
	./scripts/install-ui-tools.sh

# Builds the web UI into ui/dist, which the server serves at /ui (embedded
# into release builds). trunk runs offline with the tools of .tools/bin.
ui: ui-tools
	cd ui && $(CARGO) fetch --locked
	cd ui && CARGO_TARGET_DIR=$(CURDIR)/target trunk build --release --locked

# Builds the `ddiffusion` command (server and tools) and the desktop app.
build: deps ui
	$(CARGO) build --release --locked -p ddiffusion-server -p ddiffusion-desktop

# Starts the desktop app: the server on $(BIND) and a window with the web UI.
# Without a display it runs the headless server, with the web UI at /ui;
# Ctrl-C stops either.
run: build
	./target/release/ddiffusion-desktop --bind $(BIND)

# Starts the headless server only.
serve: build
	./target/release/ddiffusion serve --bind $(BIND)

# Builds the desktop app's installers for this platform with the Tauri CLI
# (installed into .tools): deb on Linux (AppImage needs a download from GitHub
# that this build does not make), dmg on macOS, msi on Windows.
bundle: deps ui
	./scripts/install-bundle-tools.sh
	cd src-tauri && cargo tauri build --bundles $(BUNDLES)

# Runs every test: unit tests, the integration tests, which start the
# real server binary on 127.0.0.1, the plug-in tests and the browser tests
# of the web UI (which need ui/dist, so the UI is built first).
test: deps ui
	./scripts/run-tests.sh

# Runs only the Nuke and Houdini plug-in tests (Python, against the debug binary).
plugin-test: deps
	$(CARGO) build --locked -p ddiffusion-server
	./scripts/plugin-tests.sh

# Runs only the browser tests of the web UI (headless Chromium, against the debug binary).
ui-test: deps ui
	$(CARGO) build --locked -p ddiffusion-server
	./scripts/ui-tests.sh

# Regenerates the plug-ins' Python client from the server's OpenAPI document;
# run it after changing a route or a schema, and commit the result.
generate-clients:
	$(CARGO) build --locked -p ddiffusion-server
	./plugins/generate-client.sh

# Measures queue overhead, poll throughput, start time and idle memory, side
# by side with a FastAPI + Celery + Redis reference; see docs/benchmarks.md.
bench: deps
	./scripts/install-bench-reference.sh
	BENCH_REFERENCE_PYTHON=$(CURDIR)/target/bench-reference-venv/bin/python \
		$(CARGO) bench --locked -p ddiffusion-server --bench queue

# Measures the desktop app's cold start to an interactive window and its idle
# memory against the same binary run headless, and the web UI's wasm size
# (needs Xvfb and D-Bus, as the window tests); see docs/benchmarks.md.
bench-desktop: deps ui
	$(CARGO) bench --locked -p ddiffusion-desktop --bench startup

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings
	cd ui && $(CARGO) fmt --check
	cd ui && CARGO_TARGET_DIR=$(CURDIR)/target $(CARGO) clippy --locked --target wasm32-unknown-unknown -- -D warnings

clean:
	$(CARGO) clean
