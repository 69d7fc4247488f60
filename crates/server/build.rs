// Rebuilds the server when the built web UI changes, so a release binary embeds
// the latest `ui/dist`, including files that did not exist at the last build.
fn main() {
    println!("cargo:rerun-if-changed=../../ui/dist");
    println!("cargo:rerun-if-changed=build.rs");
}
