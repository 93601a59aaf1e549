//! Saving show-once values and exports to the Downloads folder, owner-readable only.

use std::io::Write;
use std::path::{Path, PathBuf};

use tauri::{AppHandle, Manager};

use crate::error::{CommandError, CommandResult, ErrorKind};
use crate::view::SavedFile;

/// Save text the person asked to download (backup codes, a new key) as a file in their
/// Downloads folder. Never overwrites: `name (1).txt` and so on.
#[tauri::command]
#[specta::specta]
pub fn save_text_file(
    app: AppHandle,
    file_name: String,
    contents: String,
) -> CommandResult<SavedFile> {
    let contents = keyhold_core::Sensitive::new(contents);
    write_download(&app, &file_name, contents.expose().as_bytes())
}

pub(crate) fn write_download(
    app: &AppHandle,
    file_name: &str,
    bytes: &[u8],
) -> CommandResult<SavedFile> {
    let dir = app
        .path()
        .download_dir()
        .or_else(|_| app.path().home_dir())
        .map_err(|e| {
            CommandError::new(
                ErrorKind::Io,
                format!("There is no Downloads folder to save to ({e})."),
            )
        })?;
    let path = write_new_file(&dir, file_name, bytes)?;
    Ok(SavedFile {
        path: path.display().to_string(),
    })
}

/// Accept plain names with a known extension only; nothing that could leave `dir`.
pub(crate) fn safe_file_name(name: &str) -> CommandResult<(String, String)> {
    let (stem, ext) = name
        .rsplit_once('.')
        .ok_or_else(|| CommandError::invalid("The file name needs an extension."))?;
    let stem_ok = !stem.is_empty()
        && stem.len() <= 64
        && stem
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !stem_ok || !matches!(ext, "txt" | "csv" | "json") {
        return Err(CommandError::invalid("That file name cannot be used."));
    }
    Ok((stem.to_owned(), ext.to_owned()))
}

pub(crate) fn write_new_file(dir: &Path, name: &str, bytes: &[u8]) -> CommandResult<PathBuf> {
    let (stem, ext) = safe_file_name(name)?;
    let io_err = |e: std::io::Error| {
        CommandError::new(ErrorKind::Io, format!("The file could not be saved: {e}."))
    };
    std::fs::create_dir_all(dir).map_err(io_err)?;
    for n in 0..1000 {
        let candidate = if n == 0 {
            dir.join(format!("{stem}.{ext}"))
        } else {
            dir.join(format!("{stem} ({n}).{ext}"))
        };
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(&candidate) {
            Ok(mut file) => {
                file.write_all(bytes).map_err(io_err)?;
                return Ok(candidate);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(io_err(e)),
        }
    }
    Err(CommandError::new(
        ErrorKind::Io,
        "Too many files with that name already exist.",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_plain() {
        assert!(safe_file_name("keyhold-backup-codes.txt").is_ok());
        for bad in [
            "../x.txt", "a/b.txt", ".txt", "x.exe", "x", "x y.txt", "x.txt/",
        ] {
            assert!(safe_file_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn never_overwrites_and_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let a = write_new_file(dir.path(), "codes.txt", b"one").unwrap();
        let b = write_new_file(dir.path(), "codes.txt", b"two").unwrap();
        assert_ne!(a, b);
        assert_eq!(std::fs::read(&a).unwrap(), b"one");
        assert!(b.ends_with("codes (1).txt"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&b).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
