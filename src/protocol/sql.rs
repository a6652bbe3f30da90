//! Which SQLite pragmas a room's SQL may run: the server's authorizer enforces the list and
//! the console's read-only check reads it, so both judge a pragma the same way.

/// Pragmas that only describe the database (most take a table or index name): allowed with
/// or without an argument.
pub const DESCRIBING_PRAGMAS: &[&str] = &[
    "table_info",
    "table_xinfo",
    "table_list",
    "index_list",
    "index_info",
    "index_xinfo",
    "foreign_key_list",
    "foreign_key_check",
    "integrity_check",
    "quick_check",
    "collation_list",
    "function_list",
];

/// Counters that may be read (`PRAGMA user_version`) but not set.
pub const COUNTER_PRAGMAS: &[&str] = &[
    "user_version",
    "data_version",
    "schema_version",
    "page_count",
    "page_size",
    "freelist_count",
];
