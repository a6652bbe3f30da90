//! `roomdeck room service list|describe|restart`: the room's running services.

use clap::Subcommand;
use serde_json::json;

use super::{Output, print_json};
use crate::client::{RoomClient, ServiceInfo};

#[derive(Subcommand, Debug)]
pub enum Service {
    /// Services with their state.
    List,
    /// One service's spec, state and lifecycle events.
    Describe {
        #[arg(long, conflicts_with = "name", required_unless_present = "name")]
        id: Option<String>,
        #[arg(long)]
        name: Option<String>,
    },
    /// Restart a running service (its saved spec is unchanged).
    Restart {
        #[arg(long, conflicts_with = "name", required_unless_present = "name")]
        id: Option<String>,
        #[arg(long)]
        name: Option<String>,
    },
}

fn when(t: Option<f64>) -> String {
    t.map(crate::store::rooms::iso8601)
        .unwrap_or_else(|| "-".into())
}

fn find<'a>(
    list: &'a [ServiceInfo],
    id: &Option<String>,
    name: &Option<String>,
) -> Result<&'a ServiceInfo, String> {
    list.iter()
        .find(|s| id.as_deref() == Some(s.id.as_str()) || name.as_deref() == Some(s.name.as_str()))
        .ok_or_else(|| {
            format!(
                "service not found: {}",
                id.clone().or(name.clone()).unwrap_or_default()
            )
        })
}

pub async fn run(client: &RoomClient, cmd: Service, output: Output) -> Result<(), String> {
    let err = |e: crate::client::ClientError| e.to_string();
    let list = client.services().list().await.map_err(err)?;
    match cmd {
        Service::List => {
            if output == Output::Json {
                print_json(&serde_json::to_value(&list).unwrap_or_default());
            } else if list.is_empty() {
                println!("No services.");
            } else {
                println!(
                    "{:<22} {:<20} {:<12} {:<25} {:>8} {:>5} PORTS",
                    "ID", "NAME", "STATE", "STARTED", "RESTARTS", "EXIT"
                );
                for s in &list {
                    let st = s.state.as_ref();
                    let ports = st
                        .map(|st| {
                            st.ports
                                .iter()
                                .map(|p| format!("{}:{}", p.num, p.liveness_status))
                                .collect::<Vec<_>>()
                                .join(",")
                        })
                        .unwrap_or_default();
                    println!(
                        "{:<22} {:<20} {:<12} {:<25} {:>8} {:>5} {}",
                        s.id,
                        s.name,
                        st.map(|s| s.state.as_str()).unwrap_or("-"),
                        when(st.and_then(|s| s.started_at)),
                        st.map(|s| s.restart_count).unwrap_or(0),
                        st.and_then(|s| s.last_exit_code)
                            .map(|c| c.to_string())
                            .unwrap_or_else(|| "-".into()),
                        ports
                    );
                }
            }
        }
        Service::Describe { id, name } => {
            let s = find(&list, &id, &name)?;
            if output == Output::Json {
                print_json(&json!({"service": s.spec, "state": s.state.as_ref().map(|s| &s.raw)}));
                return Ok(());
            }
            println!("id:               {}", s.id);
            println!("name:             {}", s.name);
            println!("command:          {}", s.command.as_deref().unwrap_or("-"));
            if let Some(st) = &s.state {
                println!("state:            {}", st.state);
                println!("started_at:       {}", when(st.started_at));
                println!("restart_count:    {}", st.restart_count);
                println!(
                    "last_exit_code:   {}",
                    st.last_exit_code
                        .map(|c| c.to_string())
                        .unwrap_or_else(|| "-".into())
                );
                println!("last_exit_at:     {}", when(st.last_exit_at));
                println!(
                    "last_start_error: {}",
                    st.last_start_error.as_deref().unwrap_or("-")
                );
                println!("restart_at:       {}", when(st.restart_scheduled_at));
                let events = st.raw["events"].as_array().cloned().unwrap_or_default();
                if events.is_empty() {
                    println!("No service lifecycle events recorded.");
                } else {
                    println!("events:");
                    for e in events {
                        println!(
                            "  {} {:<8} {:<12} x{} {}",
                            when(e["last_timestamp"].as_f64()),
                            e["type"].as_str().unwrap_or_default(),
                            e["reason"].as_str().unwrap_or_default(),
                            e["count"],
                            e["message"].as_str().unwrap_or_default()
                        );
                    }
                }
            }
        }
        Service::Restart { id, name } => {
            let s = find(&list, &id, &name)?;
            client.services().restart(&s.id).await.map_err(err)?;
            println!("Restart requested: {} ({})", s.name, s.id);
        }
    }
    Ok(())
}
