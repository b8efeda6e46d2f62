//! Which workspace the panel opens: at start-up (`--workspace`, else
//! `$TABLERO_WORKSPACE`, else the folder last opened from Settings, else the
//! platform data folder) and when the user opens another one from Settings.
//! The last folder opened is remembered in `<config dir>/tablero/desktop.json`
//! (`$TABLERO_DESKTOP_CONFIG` names another file).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::dto::UiError;

/// The file that remembers the last workspace opened from Settings.
pub fn remembered_file() -> Option<PathBuf> {
    std::env::var_os("TABLERO_DESKTOP_CONFIG")
        .map(PathBuf::from)
        .or_else(|| dirs::config_dir().map(|d| d.join("tablero").join("desktop.json")))
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Remembered {
    workspace: Option<PathBuf>,
}

/// The remembered workspace, if it is still a workspace.
pub fn remembered(file: &Path) -> Option<PathBuf> {
    let text = std::fs::read_to_string(file).ok()?;
    let r: Remembered = serde_json::from_str(&text).ok()?;
    r.workspace.filter(|w| crate::backend::is_workspace(w))
}

/// Remembers `workspace` for the next start (written whole, then renamed).
pub fn remember(file: &Path, workspace: &Path) -> std::io::Result<()> {
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let text = serde_json::to_string_pretty(&Remembered {
        workspace: Some(workspace.to_path_buf()),
    })
    .map_err(std::io::Error::other)?;
    let tmp = file.with_extension("json.tmp");
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, file)
}

/// The workspace to open at start-up.
pub fn startup_root(
    flag: Option<PathBuf>,
    env: Option<PathBuf>,
    remembered: Option<PathBuf>,
) -> PathBuf {
    flag.or(env)
        .or(remembered)
        .unwrap_or_else(crate::backend::default_root)
}

/// Opens the workspace in `path`, or creates one there when the folder is
/// missing or empty. A folder with other files in it is refused untouched.
pub fn open_or_create(path: &str) -> Result<PathBuf, UiError> {
    let path = path.trim();
    if path.is_empty() {
        return Err(UiError::invalid("type or choose a folder"));
    }
    let root = match path.strip_prefix("~/") {
        Some(rest) => dirs::home_dir()
            .ok_or_else(|| UiError::invalid("there is no home folder to expand ~ in"))?
            .join(rest),
        None => PathBuf::from(path),
    };
    if !root.is_absolute() {
        return Err(UiError::invalid(format!(
            "{path} is a relative path; give the folder's full path"
        )));
    }
    if crate::backend::is_workspace(&root) {
        crate::backend::check(&root)?;
        return Ok(root);
    }
    if root.exists() {
        if !root.is_dir() {
            return Err(UiError::invalid(format!(
                "{} is a file, not a folder",
                root.display()
            )));
        }
        let empty = std::fs::read_dir(&root)
            .map_err(|e| UiError::refused(format!("cannot read {}: {e}", root.display())))?
            .next()
            .is_none();
        if !empty {
            return Err(UiError::refused(format!(
                "{} is not a Tablero workspace (it has no {}) and is not empty; \
                 choose a workspace folder, or an empty folder to create one in",
                root.display(),
                crate::backend::CONFIG_FILE
            )));
        }
    }
    crate::backend::init(&root)?;
    Ok(root)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_a_workspace_creates_one_in_an_empty_folder_and_refuses_other_folders() {
        let dir = tempfile::tempdir().unwrap();
        let existing = dir.path().join("existing");
        crate::backend::init(&existing).unwrap();
        let config = std::fs::read(existing.join("tablero.toml")).unwrap();
        assert_eq!(
            open_or_create(existing.to_str().unwrap()).unwrap(),
            existing
        );
        assert_eq!(
            std::fs::read(existing.join("tablero.toml")).unwrap(),
            config,
            "opening changes nothing"
        );

        // Missing and empty folders become workspaces.
        let missing = dir.path().join("new/ws");
        assert_eq!(open_or_create(missing.to_str().unwrap()).unwrap(), missing);
        assert!(crate::backend::check(&missing).is_ok());
        let empty = dir.path().join("empty");
        std::fs::create_dir(&empty).unwrap();
        open_or_create(&format!("  {}  ", empty.display())).unwrap();
        assert!(empty.join("tablero.toml").is_file());

        // A folder of other things is refused and left as it was.
        let other = dir.path().join("photos");
        std::fs::create_dir(&other).unwrap();
        std::fs::write(other.join("cat.jpg"), b"meow").unwrap();
        let err = open_or_create(other.to_str().unwrap()).unwrap_err();
        assert_eq!(err.kind, tablero_core::ports::ErrorKind::Refused);
        assert!(
            err.message.contains("is not a Tablero workspace"),
            "{}",
            err.message
        );
        let names: Vec<_> = std::fs::read_dir(&other).unwrap().collect();
        assert_eq!(names.len(), 1);

        // A file, a relative path, nothing at all.
        let file = other.join("cat.jpg");
        assert!(open_or_create(file.to_str().unwrap())
            .unwrap_err()
            .message
            .contains("is a file"));
        assert!(open_or_create("ws")
            .unwrap_err()
            .message
            .contains("relative path"));
        assert_eq!(
            open_or_create(" ").unwrap_err().kind,
            tablero_core::ports::ErrorKind::InvalidInput
        );

        // A broken workspace says what is wrong with it.
        std::fs::write(existing.join("tablero.toml"), "[roles\n").unwrap();
        let err = open_or_create(existing.to_str().unwrap()).unwrap_err();
        assert!(err.message.contains("tablero.toml"), "{}", err.message);
    }

    #[test]
    fn the_last_workspace_opened_is_remembered_for_the_next_start() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config/tablero/desktop.json");
        assert_eq!(remembered(&file), None);
        let ws = dir.path().join("ws");
        crate::backend::init(&ws).unwrap();
        remember(&file, &ws).unwrap();
        assert_eq!(remembered(&file), Some(ws.clone()));

        // Precedence: the flag, then the environment, then the remembered one.
        let flag = Some(PathBuf::from("/flag"));
        let env = Some(PathBuf::from("/env"));
        let r = remembered(&file);
        assert_eq!(
            startup_root(flag, env.clone(), r.clone()),
            PathBuf::from("/flag")
        );
        assert_eq!(startup_root(None, env, r.clone()), PathBuf::from("/env"));
        assert_eq!(startup_root(None, None, r), ws);

        // A remembered folder that is no longer a workspace is ignored.
        std::fs::remove_file(ws.join("tablero.toml")).unwrap();
        assert_eq!(remembered(&file), None);
        // So is a damaged file.
        std::fs::write(&file, "{").unwrap();
        assert_eq!(remembered(&file), None);
    }
}
