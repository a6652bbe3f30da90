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
    // libfuzzer-sys's panic hook aborts on every panic, even one read_ipc catches on purpose
    // (arrow-ipc panics on some malformed offsets). Put the default hook back: a panic that
    // escapes still aborts, through libfuzzer-sys's catch_unwind around this closure.
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let _ = std::panic::take_hook();
    });
    let Ok((schema, batches)) = read_ipc(data) else { return };
    let store = store();
    if store.create_table("t", &schema, CreateMode::Overwrite).is_ok() {
        for batch in &batches {
            let _ = store.insert("t", batch);
        }
    }
});
