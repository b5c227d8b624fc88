//! Where the repository and its Node suites are.

use std::path::PathBuf;

/// The repository's root directory.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `testing/node`: the Node packages and scripts the tests run.
pub fn node_dir() -> PathBuf {
    repo_root().join("testing/node")
}
