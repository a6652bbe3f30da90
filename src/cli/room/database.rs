//! `roomdeck room database ...`: the room's tables (the `dataset` toolkit).

use clap::{Subcommand, ValueEnum};
use serde_json::{Map, Value, json};

use super::{Output, print_json};
use crate::client::RoomClient;
use crate::client::dataset::{Rows, SqlResult, cell_text as cell, csv_cell, parse_columns};

#[derive(Subcommand, Debug)]
pub enum Database {
    /// The room's tables.
    Tables,
    /// A table's columns and types.
    Inspect {
        #[arg(short, long)]
        table: String,
    },
    /// Create a table: --columns "id int, name text".
    Create {
        #[arg(short, long)]
        table: String,
        #[arg(long)]
        columns: String,
        /// create (fail if it exists), overwrite, or create_if_not_exists.
        #[arg(long, default_value = "create")]
        mode: String,
    },
    /// Insert rows given as a JSON list of objects.
    Insert {
        #[arg(short, long)]
        table: String,
        #[arg(long)]
        json: String,
    },
    /// Rows of a table, filtered.
    Search {
        #[arg(short, long)]
        table: String,
        /// SQL condition, e.g. "age > 30".
        #[arg(long = "where")]
        where_: Option<String>,
        /// Columns to show, comma separated.
        #[arg(long)]
        select: Option<String>,
        #[arg(long)]
        limit: Option<u64>,
        /// Full-text search over the table's text columns.
        #[arg(long)]
        text: Option<String>,
        #[arg(long, value_enum)]
        format: Option<Format>,
    },
    /// Run SQL (SQLite's dialect).
    Sql {
        #[arg(short, long)]
        query: String,
        #[arg(long, value_enum)]
        format: Option<Format>,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Csv,
}

impl Database {
    pub fn validate(&self) -> Result<(), String> {
        match self {
            Database::Create { columns, mode, .. } => {
                parse_columns(columns)?;
                match mode.as_str() {
                    "create" | "overwrite" | "create_if_not_exists" => Ok(()),
                    other => Err(format!(
                        "--mode {other} is not one of create, overwrite, create_if_not_exists"
                    )),
                }
            }
            Database::Insert { json, .. } => parse_rows(json).map(|_| ()),
            _ => Ok(()),
        }
    }
}

fn parse_rows(text: &str) -> Result<Vec<Map<String, Value>>, String> {
    let v: Value =
        serde_json::from_str(text).map_err(|e| format!("--json is not valid JSON: {e}"))?;
    let items = match v {
        Value::Array(items) => items,
        obj @ Value::Object(_) => vec![obj],
        _ => return Err("--json must be a list of objects".into()),
    };
    items
        .into_iter()
        .map(|i| match i {
            Value::Object(m) => Ok(m),
            _ => Err("--json must be a list of objects".to_string()),
        })
        .collect()
}

/// Prints rows as a table with fitted column widths, JSON, or CSV.
fn print_rows(rows: &Rows, format: Format) {
    let names: Vec<String> = rows
        .schema
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    match format {
        Format::Json => print_json(&Value::Array(
            rows.rows.iter().cloned().map(Value::Object).collect(),
        )),
        Format::Csv => {
            println!(
                "{}",
                names
                    .iter()
                    .map(|n| csv_cell(&json!(n)))
                    .collect::<Vec<_>>()
                    .join(",")
            );
            for r in &rows.rows {
                let line: Vec<String> = names
                    .iter()
                    .map(|n| csv_cell(r.get(n).unwrap_or(&Value::Null)))
                    .collect();
                println!("{}", line.join(","));
            }
        }
        Format::Table => {
            let cells: Vec<Vec<String>> = rows
                .rows
                .iter()
                .map(|r| {
                    names
                        .iter()
                        .map(|n| cell(r.get(n).unwrap_or(&Value::Null)).replace('\n', " "))
                        .collect()
                })
                .collect();
            let widths: Vec<usize> = names
                .iter()
                .enumerate()
                .map(|(i, n)| {
                    cells
                        .iter()
                        .map(|c| c[i].chars().count())
                        .chain([n.chars().count()])
                        .max()
                        .unwrap_or(0)
                        .min(60)
                })
                .collect();
            let line = |vals: Vec<&str>| {
                vals.iter()
                    .zip(&widths)
                    .map(|(v, w)| {
                        let v: String = v.chars().take(*w).collect();
                        format!("{v:<w$}")
                    })
                    .collect::<Vec<_>>()
                    .join("  ")
                    .trim_end()
                    .to_string()
            };
            println!("{}", line(names.iter().map(|n| n.as_str()).collect()));
            for c in &cells {
                println!("{}", line(c.iter().map(String::as_str).collect()));
            }
            println!(
                "({} row{})",
                rows.rows.len(),
                if rows.rows.len() == 1 { "" } else { "s" }
            );
        }
    }
}

pub async fn run(client: &RoomClient, cmd: Database, output: Output) -> Result<(), String> {
    let err = |e: crate::client::ClientError| e.to_string();
    let db = client.dataset();
    let default_format = if output == Output::Json {
        Format::Json
    } else {
        Format::Table
    };
    match cmd {
        Database::Tables => {
            let tables = db.list_tables().await.map_err(err)?;
            if output == Output::Json {
                print_json(&json!({ "tables": tables }));
            } else if tables.is_empty() {
                println!("No tables.");
            } else {
                for t in tables {
                    println!("{t}");
                }
            }
        }
        Database::Inspect { table } => {
            let schema = db.inspect(&table).await.map_err(err)?;
            let columns: Vec<Value> = schema
                .fields()
                .iter()
                .map(|f| {
                    let ext = f.metadata().get("ARROW:extension:name").cloned();
                    json!({"name": f.name(), "type": ext.unwrap_or_else(|| f.data_type().to_string()), "nullable": f.is_nullable()})
                })
                .collect();
            if output == Output::Json {
                print_json(&json!({"table": table, "columns": columns}));
            } else {
                let width = columns
                    .iter()
                    .filter_map(|c| c["name"].as_str())
                    .map(str::len)
                    .max()
                    .unwrap_or(4)
                    .max(4);
                println!("{:<width$}  TYPE", "NAME");
                for c in &columns {
                    let null = if c["nullable"] == json!(false) {
                        " not null"
                    } else {
                        ""
                    };
                    println!("{:<width$}  {}{null}", cell(&c["name"]), cell(&c["type"]));
                }
            }
        }
        Database::Create {
            table,
            columns,
            mode,
        } => {
            db.create_table(&table, parse_columns(&columns)?, &mode)
                .await
                .map_err(err)?;
            println!("Created table {table}");
        }
        Database::Insert { table, json } => {
            let rows = parse_rows(&json)?;
            db.insert(&table, &rows).await.map_err(err)?;
            println!(
                "Inserted {} row{} into {table}",
                rows.len(),
                if rows.len() == 1 { "" } else { "s" }
            );
        }
        Database::Search {
            table,
            where_,
            select,
            limit,
            text,
            format,
        } => {
            let select = select.map(|s| {
                s.split(',')
                    .map(|c| c.trim().to_string())
                    .filter(|c| !c.is_empty())
                    .collect()
            });
            let rows = db
                .search(&table, where_.as_deref(), select, limit, text.as_deref())
                .await
                .map_err(err)?;
            print_rows(&rows, format.unwrap_or(default_format));
        }
        Database::Sql { query, format } => match db.sql(&query).await.map_err(err)? {
            SqlResult::Rows(rows) => print_rows(&rows, format.unwrap_or(default_format)),
            SqlResult::Statement { rows_affected } => {
                if format.unwrap_or(default_format) == Format::Json {
                    print_json(&json!({ "rows_affected": rows_affected }));
                } else {
                    println!(
                        "{rows_affected} row{} affected",
                        if rows_affected == 1 { "" } else { "s" }
                    );
                }
            }
        },
    }
    Ok(())
}
