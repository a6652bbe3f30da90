//! `roomdeck setup`: first run. Makes the config file, the data dir, the server secret and
//! the `default` room, says what it made, and how to join.

use std::path::{Path, PathBuf};

use crate::store::rooms::RoomsDb;

const CONFIG_TEMPLATE: &str = "\
# roomdeck configuration. Every setting is optional; flags and ROOMDECK_* variables win.
#
# theme = \"dark\"            # dark, light, high-contrast, terminal, or a file in themes/
# mouse = true
#
# [server]
# bind = \"127.0.0.1:8765\"   # roomdeck serve --bind
# idle_timeout = \"60s\"      # roomdeck serve --idle-timeout
";

#[derive(clap::Args, Debug)]
pub struct SetupArgs {
    /// Where config.toml goes (default: the user's config dir).
    #[arg(long, env = "ROOMDECK_CONFIG_DIR")]
    pub config_dir: Option<PathBuf>,
    /// The room to create.
    #[arg(long, default_value = "default")]
    pub room: String,
}

/// What `setup` found or made, for the report and for the TUI's silent first start.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct SetupReport {
    pub made: Vec<String>,
    pub found: Vec<String>,
}

/// Makes whatever of config file, data dir, secret and room is missing. Idempotent.
pub fn ensure(config_dir: &Path, data_dir: &Path, room: &str) -> Result<SetupReport, String> {
    let mut report = SetupReport::default();
    let mut note = |made: bool, what: String| {
        if made {
            report.made.push(what)
        } else {
            report.found.push(what)
        }
    };

    let config = config_dir.join("config.toml");
    let config_existed = config.exists();
    if !config_existed {
        std::fs::create_dir_all(config_dir)
            .map_err(|e| format!("{}: {e}", config_dir.display()))?;
        // create_new: never overwrite a config someone wrote meanwhile.
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&config)
        {
            Ok(mut f) => {
                use std::io::Write;
                f.write_all(CONFIG_TEMPLATE.as_bytes())
                    .map_err(|e| format!("{}: {e}", config.display()))?;
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(format!("{}: {e}", config.display())),
        }
    }
    note(!config_existed, format!("config file {}", config.display()));

    let data_existed = data_dir.exists();
    std::fs::create_dir_all(data_dir).map_err(|e| format!("{}: {e}", data_dir.display()))?;
    note(!data_existed, format!("data dir {}", data_dir.display()));

    let secret_path = data_dir.join("secret");
    let secret_existed = secret_path.exists();
    crate::auth::secret::load_or_create_secret(data_dir)
        .map_err(|e| format!("server secret in {}: {e}", data_dir.display()))?;
    note(
        !secret_existed,
        format!("server secret {}", secret_path.display()),
    );

    let db = RoomsDb::open(data_dir).map_err(|e| e.to_string())?;
    let room_existed = db.get(room).map_err(|e| e.to_string())?.is_some();
    let record = db.ensure(room).map_err(|e| e.to_string())?;
    std::fs::create_dir_all(crate::store::room_dir(data_dir, room).join("files"))
        .map_err(|e| format!("room folder of {room}: {e}"))?;
    note(
        !room_existed,
        format!("room {} ({})", record.name, record.id),
    );
    Ok(report)
}

pub fn run(global_data_dir: &Option<PathBuf>, args: SetupArgs) -> Result<(), String> {
    let data_dir = super::data_dir(global_data_dir);
    let config_dir = args
        .config_dir
        .clone()
        .unwrap_or_else(crate::paths::config_dir);
    let report = ensure(&config_dir, &data_dir, &args.room)?;
    for m in &report.made {
        println!("made     {m}");
    }
    for f in &report.found {
        println!("found    {f}");
    }
    let dd = if global_data_dir.is_some() {
        format!(" --data-dir {}", data_dir.display())
    } else {
        String::new()
    };
    let room = &args.room;
    println!();
    println!("To join room {room}:");
    println!(
        "  roomdeck{dd} tui --room {room}          the console, with the room server inside it"
    );
    println!(
        "  roomdeck{dd} serve                      or serve rooms on 127.0.0.1:8765 for others"
    );
    println!("  roomdeck{dd} room --room {room} messaging list");
    println!();
    println!("From the MeshAgent SDK or CLI, against `roomdeck serve`:");
    println!("  export MESHAGENT_API_URL=http://127.0.0.1:8765 MESHAGENT_ROOM={room}");
    println!("  export MESHAGENT_TOKEN=$(roomdeck{dd} token --room {room} --name me --scope full)");
    println!("  export MESHAGENT_PROJECT_ID=local MESHAGENT_DISABLE_VERSION_CHECK=1");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setup_is_idempotent_and_keeps_existing_config() {
        let dir = tempfile::tempdir().unwrap();
        let (cfg, data) = (dir.path().join("cfg"), dir.path().join("data"));
        let first = ensure(&cfg, &data, "default").unwrap();
        assert_eq!(first.made.len(), 4, "{first:?}");
        std::fs::write(cfg.join("config.toml"), "theme = \"light\"\n").unwrap();
        let second = ensure(&cfg, &data, "default").unwrap();
        assert!(second.made.is_empty(), "{second:?}");
        assert_eq!(
            std::fs::read_to_string(cfg.join("config.toml")).unwrap(),
            "theme = \"light\"\n"
        );
        let db = RoomsDb::open(&data).unwrap();
        assert!(db.get("default").unwrap().is_some());
    }
}
