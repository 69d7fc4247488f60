//! Generates Tauri's context and the permissions of the app's own commands.
//! With this list, the window's pages reach only the commands that
//! `capabilities/main.json` grants; the web UI, loaded from the server's
//! loopback address, counts as a remote origin and reaches none without it.

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
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(manifest))
        .expect("the Tauri build step failed");
}
