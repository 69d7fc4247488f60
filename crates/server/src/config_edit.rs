//! Changes top-level settings of `config.toml` in place, keeping every other
//! line and comment of the file as it was.
//!
//! The editor works on lines because no TOML crate that keeps formatting is a
//! dependency. It handles `key = value` lines of the root table, which is where
//! every setting of [`crate::config::Settings`] lives.
//! NOTE: a value spread over several lines (a multi-line string or array) of a
//! key that is changed would be left half-replaced; the result is then invalid
//! TOML and [`write_settings`] rejects it before touching the file.

use std::io::Write;
use std::path::Path;
use std::sync::Mutex;

use anyhow::Context;

/// Serialises writers, so that two requests never lose each other's change.
static WRITE_LOCK: Mutex<()> = Mutex::new(());

/// Returns the key of a `key = value` line, if the line is one.
fn line_key(line: &str) -> Option<&str> {
    let trimmed = line.trim_start();
    if trimmed.starts_with('#') || trimmed.starts_with('[') {
        return None;
    }
    let (key, _) = trimmed.split_once('=')?;
    let key = key.trim().trim_matches('"');
    (!key.is_empty()).then_some(key)
}

/// Returns `text` with each `(key, value)` set in the root table, or the key's
/// line removed where the value is `None`.
pub fn set_root_keys(text: &str, changes: &[(&str, Option<toml::Value>)]) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    for (key, value) in changes {
        // The root table ends at the first table header.
        let root_end = lines
            .iter()
            .position(|line| line.trim_start().starts_with('['))
            .unwrap_or(lines.len());
        let existing = lines[..root_end].iter().position(|line| line_key(line) == Some(key));
        match (existing, value) {
            (Some(index), Some(value)) => lines[index] = format!("{key} = {value}"),
            (Some(index), None) => {
                lines.remove(index);
            }
            (None, Some(value)) => {
                // After the last setting of the root table, or at the top of a
                // file that starts with a table.
                let after = lines[..root_end]
                    .iter()
                    .rposition(|line| line_key(line).is_some())
                    .map(|index| index + 1)
                    .unwrap_or(if root_end == lines.len() { root_end } else { 0 });
                lines.insert(after, format!("{key} = {value}"));
            }
            (None, None) => {}
        }
    }
    let mut result = lines.join("\n");
    result.push('\n');
    result
}

/// Writes `changes` into the configuration file at `path` and returns the new
/// text. The file is replaced through a temporary file in the same folder,
/// readable and writable by its owner only, and only when the new text still
/// loads as valid settings.
pub fn write_settings(path: &Path, changes: &[(&str, Option<toml::Value>)]) -> anyhow::Result<String> {
    let _guard = WRITE_LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let old = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(error) => return Err(error).with_context(|| format!("could not read {}", path.display())),
    };
    let new = set_root_keys(&old, changes);
    toml::from_str::<toml::Table>(&new).with_context(|| {
        format!(
            "the change would make {} invalid TOML; edit the file by hand",
            path.display()
        )
    })?;

    let folder = path
        .parent()
        .filter(|folder| !folder.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(folder).with_context(|| format!("could not create {}", folder.display()))?;
    let temporary = folder.join(format!(".config.toml.{}.tmp", std::process::id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options.open(&temporary).and_then(|mut file| {
        file.write_all(new.as_bytes())?;
        file.sync_all()
    });
    if let Err(error) = written {
        let _ = std::fs::remove_file(&temporary);
        return Err(error).with_context(|| format!("could not write {}", temporary.display()));
    }
    if let Err(error) = crate::config::Settings::load(&temporary) {
        let _ = std::fs::remove_file(&temporary);
        return Err(error.context(format!("the change would make {} invalid", path.display())));
    }
    std::fs::rename(&temporary, path).with_context(|| format!("could not replace {}", path.display()))?;
    Ok(new)
}

#[cfg(test)]
mod tests {
    use super::set_root_keys;

    #[test]
    fn replaces_inserts_and_removes_root_keys() {
        let text = "# my settings\ndevice = \"cpu\" # fast enough\n\nbind = \"127.0.0.1:5000\"\n";
        let changes = [
            ("device", Some(toml::Value::from("cuda:1"))),
            ("bind", None),
            ("auto_download", Some(toml::Value::from(false))),
        ];
        let edited = set_root_keys(text, &changes);
        assert_eq!(edited, "# my settings\ndevice = \"cuda:1\"\nauto_download = false\n\n");
    }

    #[test]
    fn inserts_before_first_table() {
        let text = "[section]\ndevice = \"kept\"\n";
        let edited = set_root_keys(text, &[("device", Some(toml::Value::from("cpu")))]);
        assert_eq!(edited, "device = \"cpu\"\n[section]\ndevice = \"kept\"\n");
    }

    #[test]
    fn quotes_strings_with_escapes() {
        let edited = set_root_keys("", &[("openai_api_key", Some(toml::Value::from("a\"b\\c")))]);
        let table: toml::Table = toml::from_str(&edited).unwrap();
        assert_eq!(table["openai_api_key"].as_str(), Some("a\"b\\c"));
    }
}
