//! The sandbox every caller's SQL runs in. A statement built from a caller's text (`where`,
//! SQL queries, value expressions) is prepared on a connection that allows no attached
//! databases, under an authorizer that asks the caller's grant ([`Guard`]) about every table
//! it reads, writes or alters, and refuses ATTACH/DETACH, `load_extension`, virtual tables
//! made with SQL, changes to SQLite's own tables, and every pragma but the ones that describe
//! tables or read counters. roomdeck's bookkeeping tables (`_roomdeck_…`) are hidden from
//! callers; temp objects are the caller's own; a full-text index follows the table it indexes.

use std::path::Path;
use std::sync::{Arc, Mutex};

use rusqlite::Connection;
use rusqlite::hooks::{AuthAction, AuthContext, Authorization};

use super::{RESERVED_PREFIX, StoreError, cursor};
use crate::protocol::sql::{COUNTER_PRAGMAS, DESCRIBING_PRAGMAS};

/// What a statement does to a table, for the caller's grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
    Alter,
}

impl Access {
    pub fn verb(self) -> &'static str {
        match self {
            Access::Read => "read",
            Access::Write => "write",
            Access::Alter => "alter",
        }
    }
}

/// Asks the caller's grant about one table (its name in the file); Err = a sentence why not.
pub type Guard = Arc<dyn Fn(Access, &str) -> Result<(), String> + Send + Sync>;

/// A guard that allows everything (internal statements, tests).
pub fn allow_all() -> Guard {
    Arc::new(|_, _| Ok(()))
}

/// Installs the caller's guard on a connection; denials are kept so the error can say why.
pub(super) fn install_guard(
    conn: &Connection,
    guard: Guard,
) -> Result<Arc<Mutex<Option<String>>>, StoreError> {
    let why: Arc<Mutex<Option<String>>> = Arc::default();
    let slot = why.clone();
    conn.authorizer(Some(move |ctx: AuthContext<'_>| {
        match check(&guard, &ctx) {
            Ok(()) => Authorization::Allow,
            Err(reason) => {
                let mut s = slot.lock().unwrap_or_else(|p| p.into_inner());
                if s.is_none() {
                    *s = Some(reason);
                }
                Authorization::Deny
            }
        }
    }))?;
    Ok(why)
}

/// Runs one caller's statement that changes rows, under `guard` (`bind` gives it its
/// parameters), then takes the guard off again for the store's own bookkeeping after it.
pub(super) fn execute_guarded(
    conn: &Connection,
    guard: Guard,
    sql: &str,
    bind: impl FnOnce(&mut rusqlite::Statement<'_>) -> Result<(), StoreError>,
) -> Result<usize, StoreError> {
    let why = install_guard(conn, guard)?;
    let n = {
        let mut stmt = prepare_guarded(conn, sql, &why)?;
        bind(&mut stmt)?;
        stmt.raw_execute().map_err(|e| denied_or(e, &why))?
    };
    remove_guard(conn)?;
    Ok(n)
}

/// Takes the guard off again, for the store's own statements after a caller's.
pub(super) fn remove_guard(conn: &Connection) -> Result<(), StoreError> {
    conn.authorizer(None::<fn(AuthContext<'_>) -> Authorization>)?;
    Ok(())
}

/// The answer to one authorizer question.
fn check(guard: &Guard, ctx: &AuthContext<'_>) -> Result<(), String> {
    let ours = ctx.accessor.is_some_and(|a| a.starts_with(RESERVED_PREFIX));
    let temp = ctx.database_name == Some("temp");
    let table = |name: &str, access: Access| -> Result<(), String> {
        if temp || ours {
            return Ok(());
        }
        if let Some(indexed) = name.strip_prefix(&format!("{RESERVED_PREFIX}fts:")) {
            // A full-text index and its shadow tables follow the table they index: FTS5
            // reads and writes them on its own while the table is read or written.
            if access != Access::Alter {
                let base = ["_config", "_data", "_idx", "_content", "_docsize"]
                    .iter()
                    .find_map(|s| indexed.strip_suffix(s))
                    .unwrap_or(indexed);
                return guard(access, base);
            }
        }
        if name.starts_with(RESERVED_PREFIX) {
            return Err(format!(
                "`{name}` is roomdeck's own bookkeeping and cannot be used in SQL"
            ));
        }
        if name.starts_with("sqlite_") {
            return if access == Access::Alter {
                Err(format!("`{name}` belongs to SQLite and cannot be changed"))
            } else {
                Ok(())
            };
        }
        guard(access, name)
    };
    match ctx.action {
        AuthAction::Read { table_name, .. } => table(table_name, Access::Read),
        AuthAction::Insert { table_name }
        | AuthAction::Delete { table_name }
        | AuthAction::Update { table_name, .. } => table(table_name, Access::Write),
        AuthAction::CreateTable { table_name }
        | AuthAction::DropTable { table_name }
        | AuthAction::CreateIndex { table_name, .. }
        | AuthAction::DropIndex { table_name, .. }
        | AuthAction::CreateTrigger { table_name, .. }
        | AuthAction::DropTrigger { table_name, .. }
        | AuthAction::AlterTable { table_name, .. }
        | AuthAction::Analyze { table_name } => table(table_name, Access::Alter),
        AuthAction::CreateView { view_name } | AuthAction::DropView { view_name } => {
            table(view_name, Access::Alter)
        }
        AuthAction::CreateTempIndex { .. }
        | AuthAction::CreateTempTable { .. }
        | AuthAction::CreateTempTrigger { .. }
        | AuthAction::CreateTempView { .. }
        | AuthAction::DropTempIndex { .. }
        | AuthAction::DropTempTable { .. }
        | AuthAction::DropTempTrigger { .. }
        | AuthAction::DropTempView { .. }
        | AuthAction::Select
        | AuthAction::Recursive
        | AuthAction::Transaction { .. }
        | AuthAction::Savepoint { .. }
        | AuthAction::Reindex { .. } => Ok(()),
        AuthAction::Attach { .. } | AuthAction::Detach { .. } => {
            Err("ATTACH and DETACH are not allowed: a query sees only this database".into())
        }
        AuthAction::Pragma {
            pragma_name,
            pragma_value,
        } => {
            let name = pragma_name.to_ascii_lowercase();
            if DESCRIBING_PRAGMAS.contains(&name.as_str())
                || (COUNTER_PRAGMAS.contains(&name.as_str()) && pragma_value.is_none())
            {
                Ok(())
            } else {
                Err(format!("PRAGMA {pragma_name} is not allowed here"))
            }
        }
        AuthAction::Function { function_name } => {
            if function_name.eq_ignore_ascii_case("load_extension") {
                Err("loading extensions is not allowed".into())
            } else {
                Ok(())
            }
        }
        AuthAction::CreateVtable { table_name, .. } | AuthAction::DropVtable { table_name, .. } => {
            if ours {
                Ok(())
            } else {
                Err(format!(
                    "virtual tables (`{table_name}`) cannot be made with SQL here"
                ))
            }
        }
        _ => Err("this kind of statement is not allowed".into()),
    }
}

/// Prepares a caller's statement under its guard; a refusal says which grant was missing.
pub(super) fn prepare_guarded<'c>(
    conn: &'c Connection,
    sql: &str,
    why: &Arc<Mutex<Option<String>>>,
) -> Result<rusqlite::Statement<'c>, StoreError> {
    *why.lock().unwrap_or_else(|p| p.into_inner()) = None;
    conn.prepare(sql).map_err(|e| denied_or(e, why))
}

pub(super) fn denied_or(e: rusqlite::Error, why: &Arc<Mutex<Option<String>>>) -> StoreError {
    let reason = why.lock().unwrap_or_else(|p| p.into_inner()).take();
    match (&e, reason) {
        (rusqlite::Error::SqliteFailure(f, _), Some(reason))
            if f.code == rusqlite::ErrorCode::AuthorizationForStatementDenied =>
        {
            StoreError::Denied(reason)
        }
        _ => e.into(),
    }
}

/// Opens a connection with the settings every statement runs under.
pub(crate) fn connect(path: &Path) -> Result<Connection, StoreError> {
    let conn = crate::store::open_sqlite(path)
        .map_err(|e| StoreError::Io(format!("cannot open the database {}: {e}", path.display())))?;
    conn.set_limit(rusqlite::limits::Limit::SQLITE_LIMIT_ATTACHED, 0)?;
    conn.set_limit(
        rusqlite::limits::Limit::SQLITE_LIMIT_LENGTH,
        64 * 1024 * 1024,
    )?;
    cursor::register_functions(&conn)?;
    Ok(conn)
}

#[cfg(test)]
mod tests;
