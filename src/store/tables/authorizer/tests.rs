//! Each rule of the sandbox, on a real SQLite file: what it lets a caller's SQL do, what it
//! refuses (and says why), and that a refused statement changes nothing.

use super::*;
use crate::store::tables::catalogue::META;

/// A file with two user tables (`notes`, `logs`, one row each) and the bookkeeping tables,
/// opened as every caller's statement is.
fn db() -> (tempfile::TempDir, Connection) {
    let dir = tempfile::tempdir().unwrap();
    let conn = connect(&dir.path().join("t.db")).unwrap();
    conn.execute_batch(META).unwrap();
    conn.execute_batch(
        "CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('hello');
         CREATE TABLE logs (line TEXT); INSERT INTO logs VALUES ('boot');",
    )
    .unwrap();
    (dir, conn)
}

/// A grant that may read everything but write only `notes`, and alter nothing.
fn notes_writer() -> Guard {
    Arc::new(|access, table| match (access, table) {
        (Access::Read, _) | (Access::Write, "notes") => Ok(()),
        (access, table) => Err(format!("no {} on {table}", access.verb())),
    })
}

/// A grant that allows nothing at all.
fn nothing() -> Guard {
    Arc::new(|access, table| Err(format!("no {} on {table}", access.verb())))
}

/// Prepares and runs `sql` under `guard`, as the store runs a caller's statement.
fn run(conn: &Connection, guard: Guard, sql: &str) -> Result<(), StoreError> {
    let why = install_guard(conn, guard)?;
    let result = (|| {
        let mut stmt = prepare_guarded(conn, sql, &why)?;
        let mut rows = stmt.raw_query();
        while rows.next().map_err(|e| denied_or(e, &why))?.is_some() {}
        Ok(())
    })();
    remove_guard(conn)?;
    result
}

fn denied(conn: &Connection, guard: Guard, sql: &str) -> String {
    match run(conn, guard, sql) {
        Err(StoreError::Denied(why)) => why,
        other => panic!("{sql}: expected a refusal, got {other:?}"),
    }
}

/// Each of `sqls` runs under `guard`.
fn allows_all(conn: &Connection, guard: &Guard, sqls: &[&str]) {
    for sql in sqls {
        run(conn, guard.clone(), sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
}

/// Each of `sqls` is refused under `guard`, for a reason that says `why`.
fn refuses_all(conn: &Connection, guard: &Guard, sqls: &[&str], why: &str) {
    for sql in sqls {
        let reason = denied(conn, guard.clone(), sql);
        assert!(reason.contains(why), "{sql}: {reason}");
    }
}

fn count(conn: &Connection, table: &str) -> i64 {
    conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

#[test]
fn reads_writes_and_changes_ask_the_callers_grant() {
    let (_dir, conn) = db();
    run(&conn, notes_writer(), "SELECT body FROM notes").unwrap();
    run(
        &conn,
        notes_writer(),
        "SELECT n.body, l.line FROM notes n, logs l",
    )
    .unwrap();
    run(&conn, notes_writer(), "INSERT INTO notes VALUES ('more')").unwrap();
    assert_eq!(count(&conn, "notes"), 2);

    // The grant's own sentence comes back, and the refused write changes nothing.
    assert_eq!(
        denied(&conn, notes_writer(), "INSERT INTO logs VALUES ('x')"),
        "no write on logs"
    );
    assert_eq!(
        denied(&conn, notes_writer(), "DELETE FROM logs"),
        "no write on logs"
    );
    assert_eq!(
        denied(&conn, notes_writer(), "UPDATE logs SET line = 'y'"),
        "no write on logs"
    );
    // Writing a granted table from one that may not be read is refused too.
    assert_eq!(
        denied(
            &conn,
            Arc::new(|access, table| match (access, table) {
                (_, "notes") => Ok(()),
                (access, table) => Err(format!("no {} on {table}", access.verb())),
            }),
            "INSERT INTO notes SELECT line FROM logs"
        ),
        "no read on logs"
    );
    assert_eq!(count(&conn, "logs"), 1);

    // Making, dropping and altering tables, indexes, triggers and views is `alter`.
    let changes = [
        "CREATE TABLE extra (x)",
        "DROP TABLE notes",
        "ALTER TABLE notes ADD COLUMN y",
        "CREATE INDEX notes_body ON notes (body)",
        "CREATE VIEW v AS SELECT * FROM notes",
        "CREATE TRIGGER t AFTER INSERT ON notes BEGIN SELECT 1; END",
    ];
    refuses_all(&conn, &notes_writer(), &changes, "no alter on ");
    assert_eq!(count(&conn, "notes"), 2);
    run(&conn, allow_all(), "CREATE TABLE extra (x)").unwrap();
}

#[test]
fn attach_is_refused_and_the_connection_cannot_attach_anyway() {
    let (dir, conn) = db();
    let other = dir.path().join("other.db");
    let sql = format!("ATTACH DATABASE '{}' AS other", other.display());
    assert!(denied(&conn, allow_all(), &sql).contains("ATTACH and DETACH are not allowed"));
    assert!(denied(&conn, allow_all(), "DETACH DATABASE other").contains("ATTACH"));
    // Without any authorizer the connection still allows no attached database.
    let e = conn.execute_batch(&sql).expect_err("no attached databases");
    assert!(e.to_string().contains("too many attached databases"), "{e}");
}

#[test]
fn only_pragmas_that_describe_tables_or_read_counters_are_allowed() {
    let (_dir, conn) = db();
    let reports = [
        "PRAGMA table_info(notes)",
        "PRAGMA table_xinfo(notes)",
        "PRAGMA index_list(notes)",
        "PRAGMA foreign_key_list(notes)",
        "PRAGMA integrity_check",
        "PRAGMA user_version",
        "PRAGMA page_count",
    ];
    allows_all(&conn, &notes_writer(), &reports);
    for (sql, name) in [
        ("PRAGMA user_version = 7", "user_version"),
        ("PRAGMA journal_mode = DELETE", "journal_mode"),
        ("PRAGMA writable_schema = 1", "writable_schema"),
        ("PRAGMA foreign_keys = OFF", "foreign_keys"),
        (
            "PRAGMA temp_store_directory = '/tmp'",
            "temp_store_directory",
        ),
    ] {
        assert_eq!(
            denied(&conn, allow_all(), sql),
            format!("PRAGMA {name} is not allowed here"),
            "{sql}"
        );
    }
    let v: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(v, 0, "the refused pragma set nothing");
}

#[test]
fn extensions_and_virtual_tables_are_refused() {
    let (_dir, conn) = db();
    // SQLite refuses the function itself (with its own sentence, not the grant's).
    for sql in [
        "SELECT load_extension('/tmp/x.so')",
        "SELECT LOAD_EXTENSION('x')",
    ] {
        match run(&conn, allow_all(), sql) {
            Err(StoreError::Sql(msg)) => {
                assert!(msg.contains("not authorized to use function"), "{msg}")
            }
            other => panic!("{sql}: expected a refusal, got {other:?}"),
        }
    }
    // Other functions are fine.
    run(
        &conn,
        notes_writer(),
        "SELECT upper(body), length(body) FROM notes",
    )
    .unwrap();
    assert!(
        denied(&conn, allow_all(), "CREATE VIRTUAL TABLE v USING fts5(x)")
            .contains("virtual tables (`v`) cannot be made with SQL here")
    );
}

#[test]
fn roomdecks_bookkeeping_is_hidden_and_sqlites_tables_are_read_only() {
    let (_dir, conn) = db();
    let bookkeeping = [
        "SELECT * FROM _roomdeck_tables",
        "DELETE FROM _roomdeck_tables",
        "DROP TABLE _roomdeck_indexes",
    ];
    refuses_all(
        &conn,
        &allow_all(),
        &bookkeeping,
        "roomdeck's own bookkeeping",
    );
    // SQLite's schema can be read even by a grant that allows nothing...
    run(&conn, nothing(), "SELECT name FROM sqlite_master").unwrap();
    // ...but not changed by a grant that allows everything.
    conn.execute_batch("CREATE TABLE counted (id INTEGER PRIMARY KEY AUTOINCREMENT)")
        .unwrap();
    refuses_all(
        &conn,
        &allow_all(),
        &["DROP TABLE sqlite_sequence"],
        "belongs to SQLite",
    );
}

#[test]
fn temp_objects_are_the_callers_own() {
    let (_dir, conn) = db();
    let own = [
        "CREATE TEMP TABLE scratch (x)",
        "INSERT INTO temp.scratch VALUES (1)",
        "SELECT x FROM scratch",
        "DROP TABLE temp.scratch",
        // A temp view over a real table still reads that table under the grant (below).
        "CREATE TEMP VIEW peek AS SELECT * FROM logs",
    ];
    allows_all(&conn, &nothing(), &own);
    assert_eq!(
        denied(&conn, nothing(), "SELECT * FROM peek"),
        "no read on logs"
    );
}

#[test]
fn a_full_text_index_follows_the_table_it_indexes() {
    let (_dir, conn) = db();
    let fts = format!("{RESERVED_PREFIX}fts:notes");
    // Made by the store itself (no guard), as `ensure_fts` does.
    conn.execute_batch(&format!(
        "CREATE VIRTUAL TABLE \"{fts}\" USING fts5(body); INSERT INTO \"{fts}\" VALUES ('hello')"
    ))
    .unwrap();
    let search = format!("SELECT * FROM \"{fts}\" WHERE \"{fts}\" MATCH 'hello'");
    run(&conn, notes_writer(), &search).unwrap();
    let no_notes: Guard = Arc::new(|access, table| {
        if table == "notes" {
            Err(format!("no {} on notes", access.verb()))
        } else {
            Ok(())
        }
    });
    assert_eq!(denied(&conn, no_notes, &search), "no read on notes");
    // Writing the index is writing the table; dropping it is not the caller's to do
    // (a virtual table, and only the store's own statements touch those).
    run(
        &conn,
        notes_writer(),
        &format!("INSERT INTO \"{fts}\" VALUES ('x')"),
    )
    .unwrap();
    let why = denied(&conn, allow_all(), &format!("DROP TABLE \"{fts}\""));
    assert!(why.contains("cannot be made with SQL here"), "{why}");
    assert_eq!(
        count(&conn, &format!("\"{fts}\"")),
        2,
        "the index is still there"
    );
}
