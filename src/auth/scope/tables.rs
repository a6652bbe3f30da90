//! Grants over named things in namespaces: dataset tables, sqlite databases, memories.
//!
//! Shared rule (from the SDK): a `None` list means everything; otherwise only listed names
//! (in a matching namespace) are reachable, and any matching entry with the flag set allows.

use serde::{Deserialize, Serialize};

use super::{is_false, is_true, same_namespace, yes};

/// `permissions` must be an object: serde would read `[]` as "all defaults" (all allowed).
fn object<'de, D: serde::Deserializer<'de>>(d: D) -> Result<MemoryPermissions, D::Error> {
    use serde::de::Error;
    super::opt_object(d)?.ok_or_else(|| D::Error::custom("`permissions` may not be null"))
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableGrant {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub write: bool,
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub read: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub alter: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetGrant {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tables: Option<Vec<TableGrant>>,
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub list_tables: bool,
}

impl Default for DatasetGrant {
    fn default() -> Self {
        DatasetGrant {
            tables: None,
            list_tables: true,
        }
    }
}

impl DatasetGrant {
    fn any_table(
        &self,
        table: &str,
        namespace: Option<&[String]>,
        flag: impl Fn(&TableGrant) -> bool,
    ) -> bool {
        match &self.tables {
            None => true,
            Some(tables) => tables.iter().any(|t| {
                t.name == table && same_namespace(t.namespace.as_deref(), namespace) && flag(t)
            }),
        }
    }

    pub fn can_read(&self, table: &str, namespace: Option<&[String]>) -> bool {
        self.any_table(table, namespace, |t| t.read)
    }

    pub fn can_write(&self, table: &str, namespace: Option<&[String]>) -> bool {
        self.any_table(table, namespace, |t| t.write)
    }

    pub fn can_alter(&self, table: &str, namespace: Option<&[String]>) -> bool {
        self.any_table(table, namespace, |t| t.alter)
    }

    pub fn can_access(&self, table: &str, namespace: Option<&[String]>) -> bool {
        self.any_table(table, namespace, |t| t.read || t.write || t.alter)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SqliteTableGrant {
    pub database: String,
    pub table: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub write: bool,
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub read: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub alter: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SqliteDatabaseGrant {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<Vec<String>>,
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub create_table: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub drop: bool,
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub inspect: bool,
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub list_tables: bool,
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub execute: bool,
    /// `None` = every table of the database with read, write and alter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tables: Option<Vec<SqliteTableGrant>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SqliteGrant {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub databases: Option<Vec<SqliteDatabaseGrant>>,
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub create_database: bool,
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub list_databases: bool,
}

impl Default for SqliteGrant {
    fn default() -> Self {
        SqliteGrant {
            databases: None,
            create_database: true,
            list_databases: true,
        }
    }
}

impl SqliteGrant {
    fn matching_databases<'a>(
        &'a self,
        database: &'a str,
        namespace: Option<&'a [String]>,
    ) -> impl Iterator<Item = &'a SqliteDatabaseGrant> {
        self.databases.iter().flatten().filter(move |d| {
            d.name == database && same_namespace(d.namespace.as_deref(), namespace)
        })
    }

    fn any_database(
        &self,
        database: &str,
        namespace: Option<&[String]>,
        flag: impl Fn(&SqliteDatabaseGrant) -> bool,
    ) -> bool {
        self.databases.is_none() || self.matching_databases(database, namespace).any(flag)
    }

    /// Table entries decide when any match; otherwise a matching database without a table
    /// list allows everything in it.
    fn any_table(
        &self,
        database: &str,
        table: &str,
        namespace: Option<&[String]>,
        flag: impl Fn(&SqliteTableGrant) -> bool,
    ) -> bool {
        if self.databases.is_none() {
            return true;
        }
        let tables: Vec<&SqliteTableGrant> = self
            .matching_databases(database, namespace)
            .flat_map(|d| d.tables.iter().flatten())
            .filter(|t| {
                t.database == database
                    && t.table == table
                    && same_namespace(t.namespace.as_deref(), namespace)
            })
            .collect();
        if tables.is_empty() {
            self.matching_databases(database, namespace)
                .any(|d| d.tables.is_none())
        } else {
            tables.into_iter().any(flag)
        }
    }

    pub fn can_create_database(&self) -> bool {
        self.create_database
    }

    pub fn can_list_databases(&self) -> bool {
        self.list_databases
    }

    pub fn can_drop_database(&self, database: &str, namespace: Option<&[String]>) -> bool {
        self.any_database(database, namespace, |d| d.drop)
    }

    pub fn can_inspect_database(&self, database: &str, namespace: Option<&[String]>) -> bool {
        self.any_database(database, namespace, |d| d.inspect)
    }

    pub fn can_list_tables(&self, database: &str, namespace: Option<&[String]>) -> bool {
        self.any_database(database, namespace, |d| d.list_tables)
    }

    pub fn can_create_table(&self, database: &str, namespace: Option<&[String]>) -> bool {
        self.any_database(database, namespace, |d| d.create_table)
    }

    pub fn can_execute(&self, database: &str, namespace: Option<&[String]>) -> bool {
        self.any_database(database, namespace, |d| d.execute)
    }

    pub fn can_read(&self, database: &str, table: &str, namespace: Option<&[String]>) -> bool {
        self.any_table(database, table, namespace, |t| t.read)
    }

    pub fn can_write(&self, database: &str, table: &str, namespace: Option<&[String]>) -> bool {
        self.any_table(database, table, namespace, |t| t.write)
    }

    pub fn can_alter(&self, database: &str, table: &str, namespace: Option<&[String]>) -> bool {
        self.any_table(database, table, namespace, |t| t.alter)
    }

    pub fn can_access(&self, database: &str, table: &str, namespace: Option<&[String]>) -> bool {
        self.can_read(database, table, namespace)
            || self.can_write(database, table, namespace)
            || self.can_alter(database, table, namespace)
    }

    /// Unrestricted table access to a database: no database list, or a matching database
    /// entry without a table list. Whole-file transfers (`backup`, `restore`) need it, since
    /// the file holds every table.
    pub fn can_access_all_tables(&self, database: &str, namespace: Option<&[String]>) -> bool {
        self.any_database(database, namespace, |d| d.tables.is_none())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemoryPermissions {
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub create: bool,
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub drop: bool,
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub inspect: bool,
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub query: bool,
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub upsert: bool,
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub ingest: bool,
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub recall: bool,
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub optimize: bool,
}

impl Default for MemoryPermissions {
    fn default() -> Self {
        MemoryPermissions {
            create: true,
            drop: true,
            inspect: true,
            query: true,
            upsert: true,
            ingest: true,
            recall: true,
            optimize: true,
        }
    }
}

impl MemoryPermissions {
    fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemoryEntryGrant {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<Vec<String>>,
    #[serde(
        default,
        deserialize_with = "object",
        skip_serializing_if = "MemoryPermissions::is_default"
    )]
    pub permissions: MemoryPermissions,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemoryGrant {
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub list: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memories: Option<Vec<MemoryEntryGrant>>,
}

impl Default for MemoryGrant {
    fn default() -> Self {
        MemoryGrant {
            list: true,
            memories: None,
        }
    }
}

impl MemoryGrant {
    fn any_memory(
        &self,
        name: &str,
        namespace: Option<&[String]>,
        flag: impl Fn(&MemoryPermissions) -> bool,
    ) -> bool {
        match &self.memories {
            None => true,
            Some(memories) => memories.iter().any(|m| {
                m.name == name
                    && same_namespace(m.namespace.as_deref(), namespace)
                    && flag(&m.permissions)
            }),
        }
    }

    pub fn can_create(&self, name: &str, namespace: Option<&[String]>) -> bool {
        self.any_memory(name, namespace, |p| p.create)
    }

    pub fn can_drop(&self, name: &str, namespace: Option<&[String]>) -> bool {
        self.any_memory(name, namespace, |p| p.drop)
    }

    pub fn can_inspect(&self, name: &str, namespace: Option<&[String]>) -> bool {
        self.any_memory(name, namespace, |p| p.inspect)
    }

    pub fn can_query(&self, name: &str, namespace: Option<&[String]>) -> bool {
        self.any_memory(name, namespace, |p| p.query)
    }

    pub fn can_upsert(&self, name: &str, namespace: Option<&[String]>) -> bool {
        self.any_memory(name, namespace, |p| p.upsert)
    }

    pub fn can_ingest(&self, name: &str, namespace: Option<&[String]>) -> bool {
        self.any_memory(name, namespace, |p| p.ingest)
    }

    pub fn can_recall(&self, name: &str, namespace: Option<&[String]>) -> bool {
        self.any_memory(name, namespace, |p| p.recall)
    }

    pub fn can_optimize(&self, name: &str, namespace: Option<&[String]>) -> bool {
        self.any_memory(name, namespace, |p| p.optimize)
    }

    /// Any permission other than `create` on an existing memory.
    pub fn can_access_existing(&self, name: &str, namespace: Option<&[String]>) -> bool {
        self.any_memory(name, namespace, |p| {
            p.drop || p.inspect || p.query || p.upsert || p.ingest || p.recall || p.optimize
        })
    }
}
