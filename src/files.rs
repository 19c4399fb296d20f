//! Files that hold organization data (journals: names, roles, URLs) are the user's alone:
//! created readable and writable by their owner only (0600), in folders only the owner can
//! enter (0700), on POSIX systems. On Windows a file in the user's profile is already the
//! user's; the default ACLs are kept. Files and folders that exist already are left as they
//! are: their owner chose.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::Path;

/// Make `dir` and its missing parents, each new one only for the owner.
pub fn private_dir_all(dir: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Open `path` to append, creating it for the owner only.
pub fn private_append(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.create(true).append(true).read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn new_files_and_folders_are_the_owners_alone() {
        use std::os::unix::fs::PermissionsExt;
        let root = std::env::temp_dir().join(format!("gislicense-files-{}", std::process::id()));
        let dir = root.join("a").join("b");
        private_dir_all(&dir).unwrap();
        let file = dir.join("journal.jsonl");
        private_append(&file).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&root.join("a")), 0o700);
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&file), 0o600);
        let _ = std::fs::remove_dir_all(root);
    }
}
