//! `roomdeck service validate|deploy|list|delete`: the service specs saved with rooms on this
//! machine. A room's services run while the room is active (`roomdeck room service ...`
//! shows and restarts the running ones); a deploy to an active room takes effect within a
//! few seconds.

use std::path::{Path, PathBuf};

use clap::Subcommand;
use serde_json::{Value, json};

use super::room::{Output, print_json};
use crate::server::services::spec::ServiceSpec;
use crate::store::rooms::RoomsDb;

#[derive(clap::Args, Debug)]
pub struct ServiceArgs {
    #[arg(short = 'o', long = "output", value_enum, default_value_t = Output::Table, global = true)]
    pub output: Output,
    #[command(subcommand)]
    pub cmd: ServiceCmd,
}

#[derive(Subcommand, Debug)]
pub enum ServiceCmd {
    /// Check a spec file (YAML or JSON, MeshAgent `kind: Service`).
    Validate { file: PathBuf },
    /// Save a spec with a room (create, or update the service of the same name).
    Deploy {
        file: PathBuf,
        #[arg(long, env = "MESHAGENT_ROOM")]
        room: String,
    },
    /// Saved services, of one room or all.
    List {
        #[arg(long)]
        room: Option<String>,
    },
    /// Remove a saved service (by name or id) from a room.
    Delete {
        name: String,
        #[arg(long, env = "MESHAGENT_ROOM")]
        room: String,
    },
}

fn read_spec(file: &Path) -> Result<ServiceSpec, String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    ServiceSpec::parse(&text).map_err(|e| format!("{}: {e}", file.display()))
}

pub fn run(global_data_dir: &Option<PathBuf>, args: ServiceArgs) -> Result<(), String> {
    let output = args.output;
    let open = || RoomsDb::open(&super::data_dir(global_data_dir)).map_err(|e| e.to_string());
    match args.cmd {
        ServiceCmd::Validate { file } => {
            let spec = read_spec(&file)?;
            if output == Output::Json {
                print_json(&json!({"valid": true, "spec": spec.to_json()}));
            } else {
                let runs = if spec.runnable() {
                    "runs locally as a process"
                } else if !spec.enabled {
                    "disabled"
                } else {
                    "listed only (no container.command to run)"
                };
                println!(
                    "{}: valid service {:?} ({runs})",
                    file.display(),
                    spec.metadata.name
                );
            }
        }
        ServiceCmd::Deploy { file, room } => {
            let spec = read_spec(&file)?;
            let db = open()?;
            let created = db.get(&room).map_err(|e| e.to_string())?.is_none();
            let record = db.ensure(&room).map_err(|e| e.to_string())?;
            if created && output == Output::Table {
                println!("Created room {}.", record.name);
            }
            let saved = db
                .save_service(&record.name, spec.to_json())
                .map_err(|e| e.to_string())?;
            if output == Output::Json {
                print_json(&json!({"room": saved.room, "id": saved.id, "name": saved.name}));
            } else {
                println!(
                    "Deployed service {} ({}) to room {}.",
                    saved.name, saved.id, saved.room
                );
            }
        }
        ServiceCmd::List { room } => {
            let db = open()?;
            let list = db.services(room.as_deref()).map_err(|e| e.to_string())?;
            if output == Output::Json {
                let items: Vec<Value> = list
                    .iter()
                    .map(|s| json!({"room": s.room, "id": s.id, "name": s.name, "spec": s.spec}))
                    .collect();
                print_json(&Value::Array(items));
            } else if list.is_empty() {
                println!("No services.");
            } else {
                println!(
                    "{:<20} {:<24} {:<22} {:<8} COMMAND",
                    "ROOM", "NAME", "ID", "ENABLED"
                );
                for s in list {
                    println!(
                        "{:<20} {:<24} {:<22} {:<8} {}",
                        s.room,
                        s.name,
                        s.id,
                        s.spec["enabled"].as_bool().unwrap_or(true),
                        s.spec["container"]["command"].as_str().unwrap_or("-")
                    );
                }
            }
        }
        ServiceCmd::Delete { name, room } => {
            let db = open()?;
            if !db.delete_service(&room, &name).map_err(|e| e.to_string())? {
                return Err(format!("room {room:?} has no service {name:?}"));
            }
            if output == Output::Json {
                print_json(&json!({"deleted": name, "room": room}));
            } else {
                println!("Deleted service {name} from room {room}.");
            }
        }
    }
    Ok(())
}
