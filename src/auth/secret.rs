//! The server's signing secret, kept in `<data_dir>/secret`.

use std::fs;
use std::io::{self, Write};
use std::path::Path;

const FILE_NAME: &str = "secret";

/// Reads `<data_dir>/secret`, creating it (32 random bytes as hex, mode 0600) and the
/// directory on first use. Two processes racing here end up with the same secret: the file
/// is written under a temporary name and hard-linked into place, which fails if it exists.
pub fn load_or_create_secret(data_dir: &Path) -> io::Result<String> {
    let path = data_dir.join(FILE_NAME);
    if let Some(secret) = read_secret(&path)? {
        return Ok(secret);
    }
    fs::create_dir_all(data_dir)?;
    let secret = random_hex::<32>()?;
    // A unique staging name, so a stale file from a crashed run can't get in the way.
    let tmp = data_dir.join(format!(".{FILE_NAME}.{}.tmp", random_hex::<8>()?));
    let linked = write_private(&tmp, &secret).and_then(|()| fs::hard_link(&tmp, &path));
    let _ = fs::remove_file(&tmp);
    match linked {
        Ok(()) => {
            sync_dir(data_dir);
            return Ok(secret);
        }
        // Someone else created it first: theirs wins.
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e),
    }
    read_secret(&path)?.ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "{} is empty; delete it to make a new secret",
                path.display()
            ),
        )
    })
}

/// `Ok(None)` when the file does not exist or holds only whitespace.
fn read_secret(path: &Path) -> io::Result<Option<String>> {
    match fs::read_to_string(path) {
        Ok(s) => Ok(Some(s.trim().to_string()).filter(|s| !s.is_empty())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

fn random_hex<const N: usize>() -> io::Result<String> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(io::Error::other)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Makes the new directory entry durable; best effort (not every platform can).
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

fn write_private(path: &Path, contents: &str) -> io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(contents.as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_once_then_stable() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("nested/data");
        let first = load_or_create_secret(&data).unwrap();
        assert_eq!(first.len(), 64);
        assert!(first.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(load_or_create_secret(&data).unwrap(), first);
        // Only the secret is left behind, no staging files.
        let names: Vec<_> = fs::read_dir(&data)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("secret")]);
    }

    #[test]
    fn different_dirs_get_different_secrets() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        assert_ne!(
            load_or_create_secret(a.path()).unwrap(),
            load_or_create_secret(b.path()).unwrap()
        );
    }

    #[cfg(unix)]
    #[test]
    fn file_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        load_or_create_secret(dir.path()).unwrap();
        let mode = fs::metadata(dir.path().join("secret"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn existing_secret_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("secret"), "  my-own-secret\n").unwrap();
        assert_eq!(load_or_create_secret(dir.path()).unwrap(), "my-own-secret");
    }

    #[test]
    fn empty_file_is_an_error_not_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("secret"), "").unwrap();
        assert!(load_or_create_secret(dir.path()).is_err());
        assert_eq!(fs::read_to_string(dir.path().join("secret")).unwrap(), "");
    }
}
