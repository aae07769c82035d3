//! The embedded backend of refresh coordination: processes of one app on
//! one machine (Node's `cluster`, PM2 cluster mode, containers sharing a
//! volume) share refreshes through a SQLite file, with no server to run.
//!
//! The records are `sealed_records`' as in Redis (nothing readable at
//! rest); each protocol step is one `BEGIN IMMEDIATE` transaction, which
//! SQLite serialises across processes; WAL lets readers run beside a writer.
//! Rows carry their expiry and are swept as steps run. Revocations are rows
//! that listening processes poll. SQLite blocks, so every step runs on
//! tokio's blocking pool under the store's deadline.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use crate::sealed_records::{self as records, millis, wall_clock_ms, RecordHeader, Verdict, LOGGED_OUT, MAX_CHAIN};
use crate::shared_refresh_store::{logout_marker_ms, Claim, Publish, OP_DEADLINE};

/// How often a listening process looks for revocations.
const LISTEN_EVERY: Duration = Duration::from_millis(100);
/// How long a revocation row stays for processes to read.
const REVOCATION_ROWS_FOR: Duration = Duration::from_secs(60);

/// How long opening the store keeps trying while other processes hold the
/// file's lock to set it up.
const OPEN_PATIENCE: Duration = Duration::from_secs(2);

/// At most this many expired rows are swept by one step, so a backlog (a
/// flood of logouts while the app was quiet) never holds the write lock
/// past a step's deadline.
const SWEEP_AT_MOST: i64 = 256;

/// The file used when none is given: one per user, in a folder of that
/// user's alone in the system's temporary folder (a shared folder such as
/// /tmp lets anyone create a predictable file name first). Apps with other
/// API keys may share it: their records are named and sealed by their own
/// key, so they never meet.
pub fn default_path() -> PathBuf {
    #[cfg(unix)]
    let folder = format!("crossmint-server-native-{}", unsafe { libc::geteuid() });
    #[cfg(not(unix))]
    let folder = {
        let user = std::env::var("USERNAME").or_else(|_| std::env::var("USER")).unwrap_or_default();
        let safe: String = user.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect();
        format!("crossmint-server-native-{safe}")
    };
    std::env::temp_dir().join(folder).join("refresh.sqlite")
}

/// Creates `folder` for this user alone, or checks that the one there is a
/// real folder (not a link) that this user owns and nobody else can enter.
#[cfg(unix)]
fn private_folder(folder: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt};
    match std::fs::DirBuilder::new().mode(0o700).create(folder) {
        Err(error) if error.kind() != std::io::ErrorKind::AlreadyExists => return Err(error),
        _ => {}
    }
    let found = std::fs::symlink_metadata(folder)?;
    let me = unsafe { libc::geteuid() };
    if !found.file_type().is_dir() || found.uid() != me || found.mode() & 0o077 != 0 {
        return Err(std::io::Error::other(format!(
            "{} is not a folder of this user's alone (owner {}, mode {:o}); remove it, or name a file with localCoordination: {{ file }}",
            folder.display(),
            found.uid(),
            found.mode() & 0o7777
        )));
    }
    Ok(())
}

#[cfg(not(unix))]
fn private_folder(folder: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(folder)
}

pub struct FileBackend {
    path: PathBuf,
    connection: Arc<Mutex<Connection>>,
    /// The last revocation row handed over (-1 before listening started):
    /// a listener that stopped when the store stalled resumes after it,
    /// so the rows written meanwhile (kept a minute) are not skipped.
    revocations_seen: std::sync::atomic::AtomicI64,
}

impl FileBackend {
    /// Opens (creating) the store at `path`; fails when the file system
    /// refuses it.
    pub fn open(path: &Path) -> Result<Self, String> {
        let failed = |e: &dyn std::fmt::Display| format!("{} cannot be used: {e}", path.display());
        if path == default_path() {
            if let Some(folder) = path.parent() {
                private_folder(folder).map_err(|e| failed(&e))?;
            }
        }
        create_private(path).map_err(|e| failed(&e))?;
        let connection = Connection::open(path).map_err(|e| failed(&e))?;
        connection.busy_timeout(OP_DEADLINE).map_err(|e| failed(&e))?;
        // Processes started together (a cluster's workers) set the file up at
        // once, and switching to WAL takes a lock the busy timeout does not
        // wait for: a "locked" answer is tried again for a while, since a
        // process that gives up here stays uncoordinated for its lifetime.
        let give_up_at = std::time::Instant::now() + OPEN_PATIENCE;
        loop {
            let set_up = connection.execute_batch(
                "PRAGMA journal_mode = WAL;
                 PRAGMA synchronous = NORMAL;
                 CREATE TABLE IF NOT EXISTS records (key TEXT PRIMARY KEY, value TEXT NOT NULL, expires_ms INTEGER NOT NULL);
                 CREATE INDEX IF NOT EXISTS records_by_expiry ON records (expires_ms);
                 CREATE TABLE IF NOT EXISTS revocations (seq INTEGER PRIMARY KEY AUTOINCREMENT, message TEXT NOT NULL, expires_ms INTEGER NOT NULL);",
            );
            match set_up {
                Ok(()) => break,
                Err(rusqlite::Error::SqliteFailure(error, _))
                    if matches!(
                        error.code,
                        rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                    ) && std::time::Instant::now() < give_up_at =>
                {
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err(error) => return Err(failed(&error)),
            }
        }
        Ok(FileBackend {
            path: path.to_path_buf(),
            connection: Arc::new(Mutex::new(connection)),
            revocations_seen: std::sync::atomic::AtomicI64::new(-1),
        })
    }

    /// How warnings name this store.
    pub fn shown_name(&self) -> String {
        format!("the local store {}", self.path.display())
    }

    /// Runs `step` on the blocking pool within the deadline.
    async fn step<V: Send + 'static>(
        &self,
        step: impl FnOnce(&mut Connection) -> rusqlite::Result<V> + Send + 'static,
    ) -> Result<V, String> {
        let connection = self.connection.clone();
        let task = tokio::task::spawn_blocking(move || {
            let mut connection = connection.lock().unwrap_or_else(|p| p.into_inner());
            step(&mut connection)
        });
        match tokio::time::timeout(OP_DEADLINE * 2, task).await {
            Ok(Ok(Ok(value))) => Ok(value),
            Ok(Ok(Err(e))) => Err(e.to_string()),
            Ok(Err(e)) => Err(format!("the store's task failed: {e}")),
            Err(_) => Err(format!("no answer within {} ms", millis(OP_DEADLINE * 2))),
        }
    }

    pub async fn claim(&self, claim: &Claim<'_>) -> Result<String, String> {
        let (key, spent_key, lock) = (claim.key.to_owned(), claim.spent_key.to_owned(), claim.lock.to_owned());
        let (lock_for, grace, refusal) = (claim.lock_for, claim.grace, claim.refusal);
        self.step(move |connection| {
            let tx = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let now = wall_clock_ms();
            if let Some((value, expires_ms)) = live(&tx, &key, now)? {
                if !value.starts_with('r') {
                    return Ok(value);
                }
                if let Some((header, _)) = RecordHeader::read(&value) {
                    let age = millis(header.keep).saturating_sub(expires_ms.saturating_sub(now));
                    let reusable = match header.verdict {
                        Verdict::Succeeded => age < millis(header.grace.min(grace)),
                        Verdict::Refused => age < millis(refusal),
                        Verdict::Failed => false,
                    };
                    if reusable {
                        return Ok(value);
                    }
                }
            }
            if live(&tx, &spent_key, now)?.is_some() {
                return Ok("spent".to_string());
            }
            put(&tx, &key, &lock, now + millis(lock_for))?;
            tx.commit()?;
            Ok("lead".to_string())
        })
        .await
    }

    pub async fn get(&self, key: &str) -> Result<Option<String>, String> {
        let key = key.to_owned();
        self.step(move |connection| Ok(live(connection, &key, wall_clock_ms())?.map(|(value, _)| value))).await
    }

    pub async fn publish(&self, publish: &Publish<'_>) -> Result<String, String> {
        let (key, predecessor_key, spent_key) =
            (publish.key.to_owned(), publish.predecessor_key.to_owned(), publish.spent_key.to_owned());
        let (lock, record, predecessor_id) =
            (publish.lock.to_owned(), publish.record.to_owned(), publish.predecessor_id.to_owned());
        let (keep, spent_for) = (publish.keep, publish.spent_for);
        self.step(move |connection| {
            let tx = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let now = wall_clock_ms();
            sweep(&tx, now)?;
            if let Some(spent_for) = spent_for {
                put(&tx, &spent_key, "1", now + millis(spent_for))?;
            }
            let current = live(&tx, &key, now)?.map(|(value, _)| value);
            let answer = match current.as_deref() {
                Some(value) if value == lock => {
                    put(&tx, &key, &record, now + millis(keep))?;
                    if !predecessor_id.is_empty() {
                        put(&tx, &predecessor_key, &predecessor_id, now + millis(keep))?;
                    }
                    "ok"
                }
                Some(LOGGED_OUT) => LOGGED_OUT,
                _ => "lost",
            };
            tx.commit()?;
            Ok(answer.to_string())
        })
        .await
    }

    pub async fn log_out(&self, key: &str, id: &str) -> Result<Option<String>, String> {
        let (key, id) = (key.to_owned(), id.to_owned());
        self.step(move |connection| {
            let tx = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let now = wall_clock_ms();
            sweep(&tx, now)?;
            let until = now + logout_marker_ms();
            let old = live(&tx, &key, now)?.map(|(value, _)| value);
            put(&tx, &key, LOGGED_OUT, until)?;
            let mut current = id;
            for _ in 0..MAX_CHAIN {
                let Some((before, _)) = live(&tx, &records::predecessor_key(&current), now)? else { break };
                let before_key = records::record_key(&before);
                if live(&tx, &before_key, now)?.is_some() {
                    put(&tx, &before_key, LOGGED_OUT, until)?;
                }
                current = before;
            }
            tx.commit()?;
            Ok(crate::shared_refresh_store::outcome_of(old))
        })
        .await
    }

    pub async fn announce(&self, message: &str) -> Result<(), String> {
        let message = message.to_owned();
        self.step(move |connection| {
            let now = wall_clock_ms();
            connection.execute("DELETE FROM revocations WHERE expires_ms <= ?1", params![now as i64])?;
            connection.execute(
                "INSERT INTO revocations (message, expires_ms) VALUES (?1, ?2)",
                params![message, (now + millis(REVOCATION_ROWS_FOR)) as i64],
            )?;
            Ok(())
        })
        .await
    }

    /// Polls for revocations written after it first started (or after the
    /// last one it handed over, when it starts again), handing each over,
    /// until the store fails.
    pub async fn listen(&self, on_message: &(dyn Fn(&str) + Send + Sync)) {
        use std::sync::atomic::Ordering;
        let mut seen = self.revocations_seen.load(Ordering::Acquire);
        if seen < 0 {
            let latest = self
                .step(|connection| {
                    connection.query_row("SELECT COALESCE(MAX(seq), 0) FROM revocations", [], |row| row.get(0))
                })
                .await;
            let Ok(latest): Result<i64, _> = latest else { return };
            seen = latest;
            self.revocations_seen.store(seen, Ordering::Release);
        }
        loop {
            tokio::time::sleep(LISTEN_EVERY).await;
            let after = seen;
            let rows = self
                .step(move |connection| {
                    let mut statement = connection
                        .prepare_cached("SELECT seq, message FROM revocations WHERE seq > ?1 ORDER BY seq")?;
                    let rows = statement.query_map(params![after], |row| Ok((row.get::<_, i64>(0)?, row.get(1)?)))?;
                    rows.collect::<rusqlite::Result<Vec<(i64, String)>>>()
                })
                .await;
            let Ok(rows) = rows else { return };
            for (seq, message) in rows {
                seen = seen.max(seq);
                on_message(&message);
            }
            self.revocations_seen.store(seen, Ordering::Release);
        }
    }
}

/// Deletes expired rows, a bounded number per step: every write step
/// sweeps, so the store stays about the size of what is live, and no step
/// pays for a backlog at once.
fn sweep(connection: &Connection, now: u64) -> rusqlite::Result<()> {
    connection
        .prepare_cached("DELETE FROM records WHERE key IN (SELECT key FROM records WHERE expires_ms <= ?1 LIMIT ?2)")?
        .execute(params![now as i64, SWEEP_AT_MOST])
        .map(|_| ())
}

/// A live row's value and expiry.
fn live(connection: &Connection, key: &str, now: u64) -> rusqlite::Result<Option<(String, u64)>> {
    connection
        .prepare_cached("SELECT value, expires_ms FROM records WHERE key = ?1 AND expires_ms > ?2")?
        .query_row(params![key, now as i64], |row| Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)? as u64)))
        .optional()
}

fn put(connection: &Connection, key: &str, value: &str, expires_ms: u64) -> rusqlite::Result<()> {
    connection
        .prepare_cached(
            "INSERT INTO records (key, value, expires_ms) VALUES (?1, ?2, ?3)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_ms = excluded.expires_ms",
        )?
        .execute(params![key, value, expires_ms as i64])
        .map(|_| ())
}

/// Creates the file readable by this user only (the records are sealed, but
/// their names and timing are nobody else's business); an existing file is
/// used as it is.
fn create_private(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sealed_records::REFUSAL_WINDOW;

    fn temp_store(name: &str) -> (FileBackend, PathBuf) {
        let path = std::env::temp_dir().join(format!("crossmint-test-{name}-{}.sqlite", std::process::id()));
        let _ = std::fs::remove_file(&path);
        (FileBackend::open(&path).unwrap(), path)
    }

    fn claim<'a>(key: &'a str, spent: &'a str, lock: &'a str) -> Claim<'a> {
        Claim {
            key,
            spent_key: spent,
            lock,
            lock_for: Duration::from_secs(5),
            grace: Duration::from_secs(30),
            refusal: REFUSAL_WINDOW,
        }
    }

    #[tokio::test]
    async fn the_protocol_steps_answer_as_the_redis_scripts_do() {
        let (store, path) = temp_store("steps");
        let other = FileBackend::open(&path).unwrap();
        assert_eq!(store.claim(&claim("k", "s", "lock:a:1")).await.unwrap(), "lead");
        assert_eq!(other.claim(&claim("k", "s", "lock:b:1")).await.unwrap(), "lock:a:1", "another process waits");
        let header = records::RecordHeader {
            keep: Duration::from_secs(30),
            grace: Duration::from_secs(30),
            verdict: records::Verdict::Succeeded,
            created_ms: wall_clock_ms(),
        };
        let record = format!("{}sealed", header.text());
        let publish = Publish {
            key: "k",
            predecessor_key: "p:next",
            spent_key: "s",
            lock: "lock:a:1",
            record: &record,
            keep: Duration::from_secs(30),
            predecessor_id: "k-id",
            spent_for: Some(Duration::from_secs(600)),
        };
        assert_eq!(store.publish(&publish).await.unwrap(), "ok");
        assert_eq!(other.claim(&claim("k", "s", "lock:b:2")).await.unwrap(), record, "reused within the grace");
        assert_eq!(other.get("p:next").await.unwrap().as_deref(), Some("k-id"));
        // Past the caller's grace: nothing to reuse, and the token is spent.
        let late = Claim { grace: Duration::ZERO, ..claim("k", "s", "lock:b:3") };
        assert_eq!(other.claim(&late).await.unwrap(), "spent");
        // A logout replaces the record and answers the outcome it held.
        assert_eq!(other.log_out("k", "k-id").await.unwrap().as_deref(), Some(record.as_str()));
        assert_eq!(store.claim(&claim("k", "s", "lock:a:2")).await.unwrap(), LOGGED_OUT);
        assert_eq!(store.publish(&Publish { lock: "lock:a:2", ..publish }).await.unwrap(), LOGGED_OUT);
        let _ = std::fs::remove_file(path);
    }

    #[tokio::test]
    async fn revocations_reach_other_listeners() {
        let (store, path) = temp_store("revocations");
        let listener = Arc::new(FileBackend::open(&path).unwrap());
        let heard = Arc::new(Mutex::new(Vec::new()));
        let task = {
            let (listener, heard) = (listener.clone(), heard.clone());
            tokio::spawn(async move {
                listener.listen(&move |message: &str| heard.lock().unwrap().push(message.to_string())).await;
            })
        };
        tokio::time::sleep(Duration::from_millis(150)).await;
        store.announce("digest:60").await.unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(*heard.lock().unwrap(), vec!["digest:60".to_string()]);
        task.abort();
        let _ = std::fs::remove_file(path);
    }

    #[tokio::test]
    async fn a_listener_that_starts_again_hears_what_was_announced_while_it_was_stopped() {
        let (store, path) = temp_store("resume");
        let listener = Arc::new(FileBackend::open(&path).unwrap());
        let heard = Arc::new(Mutex::new(Vec::new()));
        let listen = |listener: Arc<FileBackend>, heard: Arc<Mutex<Vec<String>>>| {
            tokio::spawn(async move {
                listener.listen(&move |message: &str| heard.lock().unwrap().push(message.to_string())).await;
            })
        };
        let first = listen(listener.clone(), heard.clone());
        tokio::time::sleep(Duration::from_millis(150)).await;
        store.announce("before").await.unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        // The listener stops (a stalled store ends it), a logout is announced
        // meanwhile, and the listener starts again a moment later.
        first.abort();
        store.announce("while-stopped").await.unwrap();
        let second = listen(listener.clone(), heard.clone());
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(*heard.lock().unwrap(), vec!["before".to_string(), "while-stopped".to_string()]);
        second.abort();
        let _ = std::fs::remove_file(path);
    }

    #[tokio::test]
    async fn expired_rows_are_swept_a_bounded_number_per_step() {
        let (store, path) = temp_store("sweep");
        let expired = wall_clock_ms() - 1;
        {
            let connection = store.connection.lock().unwrap();
            for i in 0..1000 {
                put(&connection, &format!("old-{i}"), "x", expired).unwrap();
            }
        }
        let rows = |store: &FileBackend| -> i64 {
            let connection = store.connection.lock().unwrap();
            connection.query_row("SELECT COUNT(*) FROM records", [], |row| row.get(0)).unwrap()
        };
        // Each logout adds its own marker and sweeps at most SWEEP_AT_MOST.
        store.log_out("k1", "id1").await.unwrap();
        assert_eq!(rows(&store), 1000 - SWEEP_AT_MOST + 1);
        for i in 2..=4 {
            store.log_out(&format!("k{i}"), "id").await.unwrap();
        }
        assert_eq!(rows(&store), 4, "the backlog gone in four steps, the live markers kept");
        let _ = std::fs::remove_file(path);
    }

    #[cfg(unix)]
    #[test]
    fn the_default_folder_must_be_this_users_alone() {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        let base = std::env::temp_dir().join(format!("crossmint-test-private-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        std::fs::create_dir(&base).unwrap();
        let fresh = base.join("fresh");
        private_folder(&fresh).unwrap();
        assert_eq!(std::fs::metadata(&fresh).unwrap().permissions().mode() & 0o777, 0o700);
        private_folder(&fresh).expect("its own folder, again");
        let shared = base.join("shared");
        std::fs::DirBuilder::new().mode(0o777).create(&shared).unwrap();
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o777)).unwrap();
        assert!(private_folder(&shared).unwrap_err().to_string().contains("not a folder of this user's alone"));
        let link = base.join("link");
        std::os::unix::fs::symlink(&fresh, &link).unwrap();
        assert!(private_folder(&link).is_err(), "a link, even to a private folder");
        if unsafe { libc::geteuid() } == 0 {
            let theirs = base.join("theirs");
            std::fs::DirBuilder::new().mode(0o700).create(&theirs).unwrap();
            std::os::unix::fs::chown(&theirs, Some(65534), Some(65534)).unwrap();
            assert!(private_folder(&theirs).is_err(), "another user's folder");
        }
        let _ = std::fs::remove_dir_all(&base);
    }

    #[test]
    fn processes_opening_one_new_file_at_once_all_get_the_store() {
        // A race: 60 rounds of 8 at once (it failed in round 10 before the retry).
        for round in 0..60 {
            let path = std::env::temp_dir().join(format!("crossmint-test-open-{round}-{}.sqlite", std::process::id()));
            let _ = std::fs::remove_file(&path);
            let barrier = Arc::new(std::sync::Barrier::new(8));
            let openers: Vec<_> = (0..8)
                .map(|_| {
                    let (path, barrier) = (path.clone(), barrier.clone());
                    std::thread::spawn(move || {
                        barrier.wait();
                        FileBackend::open(&path).map(|_| ())
                    })
                })
                .collect();
            for opener in openers {
                opener.join().unwrap().unwrap_or_else(|error| panic!("round {round}: {error}"));
            }
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
        }
    }

    #[test]
    fn a_file_the_system_refuses_is_an_error_not_a_panic() {
        let error = FileBackend::open(Path::new("/proc/no-such-dir/store.sqlite")).err().unwrap();
        assert!(error.contains("cannot be used"), "{error}");
    }
}
