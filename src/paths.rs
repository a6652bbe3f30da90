//! Where roomdeck keeps its files: config, data (rooms) and state (logs).
//!
//! `directories::ProjectDirs` gives the platform defaults; `ROOMDECK_CONFIG_DIR`,
//! `ROOMDECK_DATA_DIR` and `ROOMDECK_STATE_DIR` (and the `--data-dir` flags) override them.

use std::path::PathBuf;

fn project_dirs() -> Option<directories::ProjectDirs> {
    directories::ProjectDirs::from("dev", "roomdeck", "roomdeck")
}

fn from_env(var: &str) -> Option<PathBuf> {
    std::env::var_os(var)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// config.toml, keymap.toml and user themes.
pub fn config_dir() -> PathBuf {
    from_env("ROOMDECK_CONFIG_DIR")
        .or_else(|| project_dirs().map(|d| d.config_dir().to_path_buf()))
        .unwrap_or_else(|| PathBuf::from(".roomdeck/config"))
}

/// Rooms and the server secret.
pub fn data_dir() -> PathBuf {
    from_env("ROOMDECK_DATA_DIR")
        .or_else(|| project_dirs().map(|d| d.data_dir().to_path_buf()))
        .unwrap_or_else(|| PathBuf::from(".roomdeck/data"))
}

/// Log files.
pub fn state_dir() -> PathBuf {
    from_env("ROOMDECK_STATE_DIR")
        .or_else(|| project_dirs().and_then(|d| d.state_dir().map(|p| p.to_path_buf())))
        .or_else(|| project_dirs().map(|d| d.data_local_dir().join("state")))
        .unwrap_or_else(|| PathBuf::from(".roomdeck/state"))
}
