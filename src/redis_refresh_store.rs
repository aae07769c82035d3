//! The Redis backend of refresh coordination (`refreshCoordination:
//! { redisUrl }`), for a single Redis (or Valkey) and for Redis Cluster,
//! which is detected when the first connection opens. The protocol's steps
//! are Lua scripts, each touching the keys of one record id only; the keys
//! carry that id as a hash tag, so on a cluster each step runs atomically on
//! the one node that owns them. What spans two records (the link from a new
//! token back to the one it replaced, a logout walking a chain) is a series
//! of such steps, ordered so that a crash between two of them leaves at
//! worst a link unmarked, never a session handed out twice: the link is
//! written before the outcome it leads to. The revocation channel is
//! pub/sub, which a cluster carries to every node. What the records hold
//! and how processes use them is `shared_refresh_store`'s.

use std::sync::LazyLock;
use std::time::{Duration, Instant};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::sealed_records::{self as records, millis, MAX_CHAIN};
use crate::shared_refresh_store::{logout_marker_ms, Claim, Publish, OP_DEADLINE, RETRY_EVERY};

/// Establishing the connection (TCP, TLS, AUTH, SELECT).
pub const CONNECT_DEADLINE: Duration = Duration::from_millis(500);
/// Where logouts announce the JWTs they refused.
const REVOKED_JWTS_CHANNEL: &str = "crossmint-auth:revoked-jwts";

/// `Backend::claim`: the record under KEYS[1]. Answers a lock marker (`lock:`) or a
/// logout marker (`logged-out`) as is, and an outcome (`r:`) when the caller may reuse
/// it; `spent` when the token was exchanged or refused (KEYS[2]) and nothing
/// is left to reuse; otherwise takes the lock and answers `lead`. Here the
/// age of an outcome is read off its remaining time to live; the caller
/// checks it again against the creation time sealed in the record (its TTL
/// is whatever whoever wrote the key set). ARGV: lock marker, lock ms,
/// caller's grace ms, refusal window ms.
const CLAIM: &str = r#"
local v = redis.call('GET', KEYS[1])
if v then
  if string.sub(v, 1, 1) ~= 'r' then return v end
  local keep, grace, verdict = string.match(v, '^r:(%d+):(%d+):(%a+):')
  if keep then
    local age = tonumber(keep) - redis.call('PTTL', KEYS[1])
    if verdict == 'succeeded' and age < math.min(tonumber(grace), tonumber(ARGV[3])) then return v end
    if verdict == 'refused' and age < tonumber(ARGV[4]) then return v end
  end
end
if redis.call('EXISTS', KEYS[2]) == 1 then return 'spent' end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 'lead'
"#;

/// Replaces the caller's lock (ARGV[1]) with its outcome (ARGV[2], kept
/// ARGV[3] ms), and marks the token spent (KEYS[2], ARGV[4] ms) when
/// Crossmint took or refused it. Answers `logged-out` when a logout ended the
/// chain meanwhile, `lost` when the lock expired and someone else took over.
const PUBLISH: &str = r#"
local v = redis.call('GET', KEYS[1])
if ARGV[4] ~= '' then redis.call('SET', KEYS[2], '1', 'PX', ARGV[4]) end
if v ~= ARGV[1] then
  if v == 'logged-out' then return 'logged-out' end
  return 'lost'
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 'ok'
"#;

/// Marks KEYS[1] as logged out, whether or not a refresh of its token was
/// ever shared (a process may be about to start one). Answers the record's
/// previous value, so the caller, who holds the token, can open it and
/// follow the chain forwards. ARGV: marker ms.
const LOGOUT: &str = r#"
local old = redis.call('GET', KEYS[1])
redis.call('SET', KEYS[1], 'logged-out', 'PX', ARGV[1])
return old
"#;

/// Marks KEYS[1], a record that led to a logged-out token, as logged out
/// when it still exists. ARGV: marker ms.
const MARK_EARLIER: &str = r#"
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('SET', KEYS[1], 'logged-out', 'PX', ARGV[1]) end
return 1
"#;

static CLAIM_SCRIPT: LazyLock<redis::Script> = LazyLock::new(|| redis::Script::new(CLAIM));
static PUBLISH_SCRIPT: LazyLock<redis::Script> = LazyLock::new(|| redis::Script::new(PUBLISH));
static LOGOUT_SCRIPT: LazyLock<redis::Script> = LazyLock::new(|| redis::Script::new(LOGOUT));
static MARK_EARLIER_SCRIPT: LazyLock<redis::Script> = LazyLock::new(|| redis::Script::new(MARK_EARLIER));

/// What an instance is told when `refreshCoordination` has no usable URL: a
/// missing REDIS_URL would otherwise turn coordination off without a word,
/// and users behind a load balancer would be logged out.
pub const MISSING_URL: &str = "refreshCoordination.redisUrl must be a redis:// or rediss:// URL; leave refreshCoordination out to share refreshes within this process only";

/// A URL with its user information replaced, for messages. Everything
/// before the last `@` goes: a password may hold `/`, `@`, `:` or escapes,
/// and no parse of a URL that may not parse decides where it ends (a host
/// never holds an `@`, so what follows the last one is host, port, path).
fn redacted(url: &str) -> String {
    let Some(at) = url.rfind('@') else { return url.to_string() };
    match url.split_once("://") {
        Some((scheme, _)) if scheme.len() < at => format!("{scheme}://***@{}", &url[at + 1..]),
        _ => format!("***@{}", &url[at + 1..]),
    }
}

/// A connection to a single Redis, or to a cluster (slot routing, MOVED
/// and ASK handled by the client).
#[derive(Clone)]
enum RedisConnection {
    Single(ConnectionManager),
    Cluster(redis::cluster_async::ClusterConnection),
}

impl redis::aio::ConnectionLike for RedisConnection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a redis::Cmd) -> redis::RedisFuture<'a, redis::Value> {
        match self {
            RedisConnection::Single(connection) => connection.req_packed_command(cmd),
            RedisConnection::Cluster(connection) => connection.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a redis::Pipeline,
        offset: usize,
        count: usize,
    ) -> redis::RedisFuture<'a, Vec<redis::Value>> {
        match self {
            RedisConnection::Single(connection) => connection.req_packed_commands(pipeline, offset, count),
            RedisConnection::Cluster(connection) => connection.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            RedisConnection::Single(connection) => connection.get_db(),
            RedisConnection::Cluster(connection) => connection.get_db(),
        }
    }
}

pub struct RedisBackend {
    /// The first URL's client: the first connection, and the subscription.
    client: redis::Client,
    /// Every URL given (`redisUrls`): a cluster's seed nodes.
    urls: Vec<String>,
    shown_url: String,
    connection: tokio::sync::Mutex<Option<RedisConnection>>,
    /// The last failed attempt to connect, shared by the callers queued
    /// behind it for `RETRY_EVERY`: each would otherwise make its own
    /// attempt, one after another, far past the caller's timeout.
    connect_failure: std::sync::Mutex<Option<(Instant, String)>>,
}

impl RedisBackend {
    /// Checks the URLs (a single node's, or seed nodes of a cluster);
    /// connects on first use.
    pub fn new(urls: &[String]) -> Result<Self, String> {
        let first = urls.first().ok_or_else(|| MISSING_URL.to_string())?;
        for url in urls {
            let shown = redacted(url);
            if !(url.starts_with("redis://") || url.starts_with("rediss://")) {
                return Err(format!(
                    "refreshCoordination.redisUrl must start with redis:// or rediss:// (got {shown})"
                ));
            }
            redis::Client::open(url.as_str())
                .map_err(|e| format!("refreshCoordination.redisUrl {shown} cannot be used: {e}"))?;
        }
        let client = redis::Client::open(first.as_str())
            .map_err(|e| format!("refreshCoordination.redisUrl {} cannot be used: {e}", redacted(first)))?;
        Ok(RedisBackend {
            client,
            urls: urls.to_vec(),
            shown_url: redacted(first),
            connection: tokio::sync::Mutex::new(None),
            connect_failure: std::sync::Mutex::new(None),
        })
    }

    /// How warnings name this Redis: its URL without user information.
    pub fn shown_name(&self) -> String {
        format!("Redis ({})", self.shown_url)
    }

    /// The connection, opened on first use: to the first URL, then, when
    /// that node says it is part of a cluster, to the cluster through every
    /// URL given.
    async fn connection(&self) -> Result<RedisConnection, String> {
        let mut slot = self.connection.lock().await;
        if let Some(connection) = slot.as_ref() {
            return Ok(connection.clone());
        }
        let recent_failure = (self.connect_failure.lock().unwrap_or_else(|p| p.into_inner()).as_ref())
            .filter(|(at, _)| at.elapsed() < RETRY_EVERY)
            .map(|(_, error)| error.clone());
        if let Some(error) = recent_failure {
            return Err(error);
        }
        let opened = self.open_connection().await;
        let mut failure = self.connect_failure.lock().unwrap_or_else(|p| p.into_inner());
        match opened {
            Ok(connection) => {
                *failure = None;
                *slot = Some(connection.clone());
                Ok(connection)
            }
            Err(error) => {
                *failure = Some((Instant::now(), error.clone()));
                Err(error)
            }
        }
    }

    /// Opens the connection ahead of the first operation. A failure is not
    /// kept: Redis starting just after the app (one compose file) must not
    /// turn the first operations away for `RETRY_EVERY`.
    pub async fn prepare(&self) {
        let mut slot = self.connection.lock().await;
        if slot.is_none() {
            if let Ok(connection) = self.open_connection().await {
                *slot = Some(connection);
            }
        }
    }

    async fn open_connection(&self) -> Result<RedisConnection, String> {
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CONNECT_DEADLINE))
            .set_response_timeout(Some(OP_DEADLINE))
            .set_number_of_retries(1)
            .set_max_delay(RETRY_EVERY);
        let connecting = ConnectionManager::new_with_config(self.client.clone(), config);
        let mut single = match tokio::time::timeout(CONNECT_DEADLINE + OP_DEADLINE, connecting).await {
            Ok(Ok(connection)) => connection,
            Ok(Err(e)) => return Err(format!("cannot connect: {e}")),
            Err(_) if self.shown_url.starts_with("rediss://") => {
                return Err(format!(
                    "no TLS connection within {} ms (does the server speak TLS on this port?)",
                    millis(CONNECT_DEADLINE)
                ))
            }
            Err(_) => return Err(format!("no connection within {} ms", millis(CONNECT_DEADLINE))),
        };
        let mut info = redis::cmd("INFO");
        info.arg("cluster");
        let clustered = match tokio::time::timeout(OP_DEADLINE, info.query_async::<String>(&mut single)).await {
            Ok(Ok(info)) => info.lines().any(|line| line.trim() == "cluster_enabled:1"),
            Ok(Err(e)) => return Err(format!("cannot read the server's mode: {e}")),
            Err(_) => return Err(format!("no answer within {} ms", millis(OP_DEADLINE))),
        };
        let connection = if clustered {
            let client = redis::cluster::ClusterClientBuilder::new(self.urls.iter().map(String::as_str))
                .connection_timeout(CONNECT_DEADLINE)
                .response_timeout(OP_DEADLINE)
                .retries(1)
                .build()
                .map_err(|e| format!("cannot use the cluster: {e}"))?;
            let connecting = client.get_async_connection();
            match tokio::time::timeout(CONNECT_DEADLINE * 2, connecting).await {
                Ok(Ok(connection)) => RedisConnection::Cluster(connection),
                Ok(Err(e)) => return Err(format!("cannot connect to the cluster: {e}")),
                Err(_) => return Err(format!("no cluster connection within {} ms", millis(CONNECT_DEADLINE * 2))),
            }
        } else {
            RedisConnection::Single(single)
        };
        Ok(connection)
    }

    /// One operation with the deadline.
    async fn checked<V>(
        &self,
        operation: impl AsyncFnOnce(&mut RedisConnection) -> redis::RedisResult<V>,
    ) -> Result<V, String> {
        let mut conn = self.connection().await?;
        match tokio::time::timeout(OP_DEADLINE, operation(&mut conn)).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err(format!("no answer within {} ms", millis(OP_DEADLINE))),
        }
    }

    async fn call<V: redis::FromRedisValue>(&self, invocation: redis::ScriptInvocation<'_>) -> Result<V, String> {
        self.checked(async |conn| invocation.invoke_async::<V>(conn).await).await
    }

    pub async fn claim(&self, claim: &Claim<'_>) -> Result<String, String> {
        let mut invocation = CLAIM_SCRIPT.prepare_invoke();
        invocation
            .key(claim.key)
            .key(claim.spent_key)
            .arg(claim.lock)
            .arg(millis(claim.lock_for))
            .arg(millis(claim.grace))
            .arg(millis(claim.refusal));
        self.call(invocation).await
    }

    pub async fn get(&self, key: &str) -> Result<Option<String>, String> {
        self.checked(async |conn| redis::cmd("GET").arg(key).query_async::<Option<String>>(conn).await).await
    }

    /// The link back from the token an outcome issued first (its own slot),
    /// then the outcome: a crash between the two leaves a link to a record
    /// that holds no outcome, which a logout walks past.
    pub async fn publish(&self, publish: &Publish<'_>) -> Result<String, String> {
        if !publish.predecessor_id.is_empty() {
            let (key, id, keep) = (publish.predecessor_key, publish.predecessor_id, millis(publish.keep));
            self.checked(async |conn| {
                redis::cmd("SET").arg(key).arg(id).arg("PX").arg(keep).query_async::<()>(conn).await
            })
            .await?;
        }
        let mut invocation = PUBLISH_SCRIPT.prepare_invoke();
        invocation
            .key(publish.key)
            .key(publish.spent_key)
            .arg(publish.lock)
            .arg(publish.record)
            .arg(millis(publish.keep))
            .arg(publish.spent_for.map(|d| millis(d).to_string()).unwrap_or_default());
        self.call(invocation).await
    }

    /// Marks the record, then walks back the links to the records that led
    /// to it, one slot at a time.
    pub async fn log_out(&self, key: &str, id: &str) -> Result<Option<String>, String> {
        let mut invocation = LOGOUT_SCRIPT.prepare_invoke();
        invocation.key(key).arg(logout_marker_ms());
        let old = self.call::<Option<String>>(invocation).await?;
        let mut current = id.to_string();
        for _ in 0..MAX_CHAIN {
            let Some(before) = self.get(&records::predecessor_key(&current)).await? else { break };
            let mut mark = MARK_EARLIER_SCRIPT.prepare_invoke();
            mark.key(records::record_key(&before)).arg(logout_marker_ms());
            self.call::<i64>(mark).await?;
            current = before;
        }
        Ok(crate::shared_refresh_store::outcome_of(old))
    }

    pub async fn announce(&self, message: &str) -> Result<(), String> {
        self.checked(async |conn| {
            redis::cmd("PUBLISH").arg(REVOKED_JWTS_CHANNEL).arg(message).query_async::<i64>(conn).await
        })
        .await
        .map(|_| ())
    }

    /// Subscribes to the revocation channel (on the first URL's node: a
    /// cluster carries every message to every node) and hands each message
    /// over until the subscription is lost.
    pub async fn listen(&self, on_message: &(dyn Fn(&str) + Send + Sync)) {
        let subscribed = async {
            let mut pubsub = self.client.get_async_pubsub().await?;
            pubsub.subscribe(REVOKED_JWTS_CHANNEL).await?;
            Ok::<_, redis::RedisError>(pubsub)
        };
        if let Ok(Ok(pubsub)) = tokio::time::timeout(CONNECT_DEADLINE + OP_DEADLINE, subscribed).await {
            let mut messages = pubsub.into_on_message();
            while let Some(message) = futures_util::StreamExt::next(&mut messages).await {
                if let Ok(text) = message.get_payload::<String>() {
                    on_message(&text);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked_and_passwords_never_shown() {
        assert_eq!(redacted("redis://user:hunter2@host:6379/2"), "redis://***@host:6379/2");
        assert_eq!(redacted("rediss://:hunter2@host"), "rediss://***@host");
        assert_eq!(redacted("redis://host:6379"), "redis://host:6379");
        // Whatever the password holds, and whether or not the URL parses.
        for password in ["s3cr/et", "p@ss/w0rd", "a:b:c", "pa%2Fss%40wd", "/@/:%", "x?y#z", "trailing@"] {
            for url in [
                format!("redis://:{password}@host:6379/0"),
                format!("redis://user:{password}@host"),
                format!("rediss://{password}@host:notaport"),
                format!("http://:{password}@host"),
                format!("redis:/:{password}@host"),
            ] {
                let shown = redacted(&url);
                assert!(!shown.contains(password), "{url} -> {shown}");
                for fragment in password.split(['/', '@', ':', '%', '?', '#']).filter(|f| f.len() >= 3) {
                    assert!(!shown.contains(fragment), "{url} -> {shown}");
                }
                let error = RedisBackend::new(std::slice::from_ref(&url)).err().unwrap_or_default();
                for fragment in password.split(['/', '@', ':', '%', '?', '#']).filter(|f| f.len() >= 3) {
                    assert!(!error.contains(fragment), "{url} -> {error}");
                }
            }
        }
        assert!(RedisBackend::new(&["redis://127.0.0.1:6379/0".to_string()]).is_ok());
        assert!(RedisBackend::new(&["rediss://user:pw@127.0.0.1:6380".to_string()]).is_ok());
        let error = RedisBackend::new(&["http://:hunter2@127.0.0.1:6379".to_string()]).err().unwrap();
        assert!(error.contains("redis://") && !error.contains("hunter2"), "{error}");
        let error = RedisBackend::new(&["redis://:hunter2@127.0.0.1:notaport".to_string()]).err().unwrap();
        assert!(!error.contains("hunter2"), "{error}");
    }
}
