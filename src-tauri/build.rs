//! Generates Tauri's context and the permissions of the app's own commands.
//! The web UI comes from the server's loopback address, which Tauri treats as
//! a remote origin, so it reaches only the commands that
//! `capabilities/main.json` grants from this list.

const COMMANDS: &[&str] = &[
    "open_output_folder",
    "reveal_output",
    "pick_input_files",
    "copy_text",
    "use_port",
    "quit_app",
    "ui_ready",
];

fn main() {
    let manifest = tauri_build::AppManifest::new().commands(COMMANDS);
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(manifest)).expect("the Tauri build step failed");
}
