//! Arrow IPC input, as clients send rows to the dataset and sqlite toolkits: decoded or
//! refused, and what decodes is written to a real table or refused, never a panic.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use roomdeck::store::tables::{CreateMode, TableStore, read_ipc};

fn store() -> &'static TableStore {
    static STORE: OnceLock<(tempfile_dir::Dir, TableStore)> = OnceLock::new();
    &STORE
        .get_or_init(|| {
            let dir = tempfile_dir::Dir::new();
            let store = TableStore::open(&dir.0.join("tables.db")).expect("opens");
            (dir, store)
        })
        .1
}

/// A per-process temp dir (statics are never dropped; fuzz/run removes these afterwards).
mod tempfile_dir {
    pub struct Dir(pub std::path::PathBuf);
    impl Dir {
        pub fn new() -> Dir {
            let path = std::env::temp_dir().join(format!("roomdeck-fuzz-{}", std::process::id()));
            std::fs::create_dir_all(&path).expect("temp dir");
            Dir(path)
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok((schema, batches)) = read_ipc(data) else { return };
    let store = store();
    if store.create_table("t", &schema, CreateMode::Overwrite).is_ok() {
        for batch in &batches {
            let _ = store.insert("t", batch);
        }
    }
});
