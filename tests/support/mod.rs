//! Running the real `colloq` binary in tests: a command on the test's own
//! database and file directory, and a server on a free port that stops when
//! dropped.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use colloq_persistence::testing::TestDatabase;
use serde_json::Value;

/// Runs a `colloq` command that must succeed and print one JSON value.
pub(crate) fn json_out(cmd: &mut Command) -> Value {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Every `limits.*` setting, as its environment variable.
pub(crate) const LIMITS: [&str; 5] = [
    "COLLOQ_LIMITS__REQUESTS_PER_ADDRESS_PER_SECOND",
    "COLLOQ_LIMITS__LOGINS_PER_ADDRESS_PER_MINUTE",
    "COLLOQ_LIMITS__LOGINS_PER_ACCOUNT_PER_MINUTE",
    "COLLOQ_LIMITS__REGISTRATIONS_PER_ADDRESS_PER_HOUR",
    "COLLOQ_LIMITS__SENDS_PER_USER_PER_SECOND",
];

/// A test's database and file directory.
pub(crate) struct Env {
    pub(crate) db: TestDatabase,
    pub(crate) files: tempfile::TempDir,
}

impl Env {
    pub(crate) fn new() -> Self {
        Self {
            db: TestDatabase::new().unwrap(),
            files: tempfile::tempdir().unwrap(),
        }
    }

    /// `colloq` pointed at this environment.
    pub(crate) fn colloq(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_colloq"));
        cmd.arg("--database-url")
            .arg(self.db.url())
            .env("COLLOQ_LOG", "warn")
            .env("COLLOQ_FILES__DIR", self.files_dir());
        // Tests drive many requests from one address as one user; the
        // tests of the limits turn them back on.
        for limit in LIMITS {
            cmd.env(limit, "0");
        }
        match self.db.pg_schema() {
            Some(schema) => cmd.env("COLLOQ_DATABASE__PG_SCHEMA", schema),
            None => cmd.env_remove("COLLOQ_DATABASE__PG_SCHEMA"),
        };
        cmd
    }

    pub(crate) fn files_dir(&self) -> PathBuf {
        self.files.path().join("store")
    }

    /// Serves with `cmd` (from [`Env::colloq`], perhaps with more settings) on a
    /// free port, once it answers.
    pub(crate) fn serve(&self, mut cmd: Command) -> Server {
        let port = free_port();
        cmd.args(["serve", "--bind", &format!("127.0.0.1:{port}")]);
        Server::start(cmd, port)
    }
}

/// A port nothing listens on right now.
pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Server {
    /// Spawns `cmd`, which must serve on `port`, and waits until it is ready.
    pub(crate) fn start(mut cmd: Command, port: u16) -> Self {
        let child = cmd.stdout(Stdio::null()).spawn().unwrap();
        let mut server = Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while ureq::get(&format!("{}/readyz", server.base))
            .call()
            .is_err()
        {
            assert!(
                server.child.try_wait().unwrap().is_none(),
                "colloq exited before it was ready"
            );
            assert!(Instant::now() < deadline, "colloq did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }
}

/// A running server, killed when dropped.
pub(crate) struct Server {
    pub(crate) child: Child,
    pub(crate) base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
