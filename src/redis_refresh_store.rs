//! Refreshes shared across processes through Redis (`refreshCoordination`).
//!
//! The in-process table (refresh_flight) keeps every concurrent request's
//! session inside one process. Behind a load balancer, the eight requests a
//! browser fires with an expired JWT land on several processes, and each
//! would spend the same single-use refresh token: all but one lose the
//! session. Here the first process to see a token takes a short lock in Redis,
//! refreshes, and publishes the outcome for the grace window; the others wait
//! for it and answer with the same material.
//!
//! What Redis holds: keys named by the SHA-256 of the flight key (destination,
//! API key and token; never the token itself), a lock marker, and outcomes
//! sealed with AES-256-GCM under a key derived (HKDF) from that same flight
//! key. Reading Redis without the API key and the old refresh token reveals
//! that a refresh happened and whether it succeeded, nothing more.
//!
//! A logout marks its token's record (and the chain's) as logged out,
//! whether or not a refresh of it was ever shared, so no process refreshes
//! it afterwards; and publishes the digests of the JWTs it refused, so every
//! process subscribed refuses them too. A rotated token leaves a marker of
//! its own, so no process presents it to Crossmint again.
//!
//! Redis is never a new way to fail: every operation has a short deadline,
//! and when Redis is down, slow or refuses, the caller refreshes as it would
//! without coordination (the in-process table still applies). The first
//! failure raises one warning; afterwards one caller a second probes Redis,
//! and the first success raises one more line and resumes coordination.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use aws_lc_rs::digest::{digest, SHA256};
use aws_lc_rs::hkdf::{Salt, HKDF_SHA256};
use base64::engine::general_purpose::STANDARD_NO_PAD as BASE64;
use base64::Engine as _;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::refresh_flight::{RefreshHandout, ROTATION_GRACE};
use crate::warnings;

/// Establishing the connection (TCP, TLS, AUTH, SELECT).
pub const CONNECT_DEADLINE: Duration = Duration::from_millis(500);
/// Any one command or script.
pub const OP_DEADLINE: Duration = Duration::from_millis(200);
/// While Redis is failing, how often one caller tries it again.
pub const RETRY_EVERY: Duration = Duration::from_secs(1);
/// How often a waiting process looks for the leader's outcome: a GET is
/// cheap next to a refresh, and a follower waits on average half of this
/// beyond the leader (measured by bench/coordination.js).
pub const POLL_EVERY: Duration = Duration::from_millis(4);
/// How long an outcome stays for processes that were already waiting, when
/// the grace window (possibly 0) is shorter.
pub const PICKUP_WINDOW: Duration = Duration::from_secs(3);
/// How long a refused refresh is handed to newcomers: the token is dead,
/// and they fail fast instead of asking Crossmint again.
pub const REFUSAL_WINDOW: Duration = Duration::from_secs(5);
/// How long a logout's marker stays: longer than any lock or grace window,
/// and than the retries of the token's revocation at Crossmint (after which
/// Crossmint refuses the token itself). A logout needs no credentials, so a
/// flood of them costs Redis this long per logout (about 100 bytes each).
pub const LOGOUT_WINDOW: Duration = Duration::from_secs(120);
/// How long a rotated (or refused) token's marker stays: a late request
/// carrying it on any process is answered without presenting it again.
pub const SPENT_WINDOW: Duration = crate::refresh_flight::ROTATED_MEMORY;
/// How far apart the clocks of the processes sharing a Redis may be: a
/// record's age is read against the sealed creation time by the reader's own
/// clock, and this much is allowed on top of every window.
pub const CLOCK_SKEW: Duration = Duration::from_secs(2);
/// Where logouts announce the JWTs they refused.
const REVOKED_JWTS_CHANNEL: &str = "crossmint-auth:revoked-jwts";
/// A logout follows a rotation chain this many links at most.
const MAX_CHAIN: usize = 16;

const KEY_PREFIX: &str = "crossmint-auth:";
const HKDF_SALT: &[u8] = b"crossmint-server-native refresh coordination v1";

/// How an outcome may be reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// New material: reused for the grace window.
    Succeeded,
    /// Crossmint refused the token: reused for REFUSAL_WINDOW.
    Refused,
    /// Outage, timeout, unreadable answer: only processes already waiting
    /// receive it; a newcomer tries again.
    Failed,
}

impl Verdict {
    /// How the verdict is written in a record's header (and read by CLAIM).
    fn name(self) -> &'static str {
        match self {
            Verdict::Succeeded => "succeeded",
            Verdict::Refused => "refused",
            Verdict::Failed => "failed",
        }
    }
}

/// A refresh outcome that can be stored in Redis.
pub trait SharedOutcome: Sized {
    fn verdict(&self) -> Verdict;
    fn encode(&self) -> Vec<u8>;
    fn decode(bytes: &[u8]) -> Option<Self>;
    /// The outcome for a token some process already exchanged (or that
    /// Crossmint refused): it is not presented again.
    fn already_spent() -> Self;
    /// Whether a logout this process heard of ended the session this
    /// outcome carries (its JWT was refused).
    fn logged_out(&self) -> bool;
}

/// Looks at the record under KEYS[1]. Answers a lock marker (`lock:`) or a
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
/// ARGV[3] ms), records the predecessor of the token it issued (KEYS[2] =
/// ARGV[4]) so a logout with the new token reaches this record, and marks
/// the token spent (KEYS[3], ARGV[5] ms) when Crossmint took or refused it.
/// Answers `logged-out` when a logout ended the chain meanwhile, `lost` when the lock
/// expired and someone else took over.
const PUBLISH: &str = r#"
local v = redis.call('GET', KEYS[1])
if ARGV[5] ~= '' then redis.call('SET', KEYS[3], '1', 'PX', ARGV[5]) end
if v ~= ARGV[1] then
  if v == 'logged-out' then return 'logged-out' end
  return 'lost'
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
if ARGV[4] ~= '' then redis.call('SET', KEYS[2], ARGV[4], 'PX', ARGV[3]) end
return 'ok'
"#;

/// Marks KEYS[1] as logged out, whether or not a refresh of its token was
/// ever shared (a process may be about to start one), and the records that
/// led to it when they exist. Answers the record's previous value, so the
/// caller, who holds the token, can open it and follow the chain forwards.
/// ARGV: marker ms, record prefix, predecessor prefix, record id, max links.
const LOGOUT: &str = r#"
local old = redis.call('GET', KEYS[1])
redis.call('SET', KEYS[1], 'logged-out', 'PX', ARGV[1])
if old == 'logged-out' or (old and string.sub(old, 1, 5) == 'lock:') then old = false end
local id = ARGV[4]
for i = 1, tonumber(ARGV[5]) do
  local before = redis.call('GET', ARGV[3] .. id)
  if not before then break end
  if redis.call('EXISTS', ARGV[2] .. before) == 1 then
    redis.call('SET', ARGV[2] .. before, 'logged-out', 'PX', ARGV[1])
  end
  id = before
end
return old
"#;

static CLAIM_SCRIPT: LazyLock<redis::Script> = LazyLock::new(|| redis::Script::new(CLAIM));
static PUBLISH_SCRIPT: LazyLock<redis::Script> = LazyLock::new(|| redis::Script::new(PUBLISH));
static LOGOUT_SCRIPT: LazyLock<redis::Script> = LazyLock::new(|| redis::Script::new(LOGOUT));

/// One store (and one connection) per Redis URL for the whole process.
static STORES: LazyLock<Mutex<HashMap<String, Arc<RedisRefreshStore>>>> = LazyLock::new(Default::default);

/// What an instance is told when `refreshCoordination` has no usable URL: a
/// missing REDIS_URL would otherwise turn coordination off without a word,
/// and users behind a load balancer would be logged out.
pub const MISSING_URL: &str = "refreshCoordination.redisUrl must be a redis:// or rediss:// URL; leave refreshCoordination out to share refreshes within this process only";

/// The process's store for `url`, created on first use. Fails (without
/// connecting) when the URL cannot be used.
pub fn shared_store(url: &str) -> Result<Arc<RedisRefreshStore>, String> {
    let mut stores = STORES.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(store) = stores.get(url) {
        return Ok(store.clone());
    }
    let store = Arc::new(RedisRefreshStore::new(url)?);
    stores.insert(url.to_string(), store.clone());
    Ok(store)
}

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

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `<64 hex digits>:<seconds>` as `announce_revoked_jwts` writes it.
fn parse_revocation(item: &str) -> Option<([u8; 32], Duration)> {
    let (digest_hex, seconds) = item.split_once(':')?;
    if digest_hex.len() != 64 {
        return None;
    }
    let mut digest = [0u8; 32];
    for (index, byte) in digest.iter_mut().enumerate() {
        *byte = u8::from_str_radix(digest_hex.get(2 * index..2 * index + 2)?, 16).ok()?;
    }
    Some((digest, Duration::from_secs(seconds.parse().ok()?)))
}

fn record_id(flight_key: &str) -> String {
    hex(digest(&SHA256, flight_key.as_bytes()).as_ref())
}

fn sealing_key(flight_key: &str, id: &str) -> LessSafeKey {
    let prk = Salt::new(HKDF_SHA256, HKDF_SALT).extract(flight_key.as_bytes());
    let info = [id.as_bytes()];
    let okm = prk.expand(&info, &AES_256_GCM).expect("32 bytes is a valid HKDF-SHA256 length");
    LessSafeKey::new(UnboundKey::from(okm))
}

/// What a record's authenticated header says: how long it may be used, by
/// whom, and when it was written (ms since the epoch, the writer's clock).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct RecordHeader {
    keep: Duration,
    grace: Duration,
    verdict: Verdict,
    created_ms: u64,
}

impl RecordHeader {
    /// `r:<keep ms>:<grace ms>:<verdict>:<created ms>:`
    fn text(&self) -> String {
        format!("r:{}:{}:{}:{}:", millis(self.keep), millis(self.grace), self.verdict.name(), self.created_ms)
    }

    /// Whether a reader may still use the record by its own clock: a process
    /// that was waiting for it within `keep`, a newcomer within the grace
    /// window (its own, when shorter) for a success and REFUSAL_WINDOW for a
    /// refusal; a failure serves only waiters. A record copied out of Redis
    /// and written back later is too old here whatever its TTL says.
    fn usable(&self, now_ms: u64, waiting: bool, caller_grace: Duration) -> bool {
        let age = Duration::from_millis(now_ms.saturating_sub(self.created_ms));
        let window = match (waiting, self.verdict) {
            (true, _) => self.keep,
            (false, Verdict::Succeeded) => self.grace.min(caller_grace),
            (false, Verdict::Refused) => REFUSAL_WINDOW,
            (false, Verdict::Failed) => return false,
        };
        age < window + CLOCK_SKEW
    }
}

fn wall_clock_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, millis)
}

/// The header's text followed by the sealed outcome; the header is
/// authenticated with it.
fn seal(flight_key: &str, id: &str, header: &str, plaintext: &[u8]) -> String {
    let mut nonce = [0u8; NONCE_LEN];
    aws_lc_rs::rand::fill(&mut nonce).expect("the system random source works");
    let mut sealed = plaintext.to_vec();
    sealing_key(flight_key, id)
        .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(header.as_bytes()), &mut sealed)
        .expect("AES-GCM sealing of a short buffer succeeds");
    let mut blob = nonce.to_vec();
    blob.extend_from_slice(&sealed);
    format!("{header}{}", BASE64.encode(blob))
}

/// Opens a record written by `seal` for the same flight key: its header and
/// outcome; `None` when it was not (or was altered).
fn open(flight_key: &str, id: &str, record: &str) -> Option<(RecordHeader, Vec<u8>)> {
    let mut fields = record.splitn(6, ':');
    let (tag, keep, grace, verdict, created, body) =
        (fields.next()?, fields.next()?, fields.next()?, fields.next()?, fields.next()?, fields.next()?);
    if tag != "r" {
        return None;
    }
    let parsed = RecordHeader {
        keep: Duration::from_millis(keep.parse().ok()?),
        grace: Duration::from_millis(grace.parse().ok()?),
        verdict: match verdict {
            "succeeded" => Verdict::Succeeded,
            "refused" => Verdict::Refused,
            "failed" => Verdict::Failed,
            _ => return None,
        },
        created_ms: created.parse().ok()?,
    };
    let header = format!("r:{keep}:{grace}:{verdict}:{created}:");
    let blob = BASE64.decode(body).ok()?;
    if blob.len() < NONCE_LEN {
        return None;
    }
    let (nonce, sealed) = blob.split_at(NONCE_LEN);
    let mut buffer = sealed.to_vec();
    let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
    let plain = sealing_key(flight_key, id).open_in_place(nonce, Aad::from(header.as_bytes()), &mut buffer).ok()?;
    Some((parsed, plain.to_vec()))
}

fn millis(d: Duration) -> u64 {
    d.as_millis().min(u64::MAX as u128) as u64
}

#[derive(Default)]
struct Health {
    /// Set while Redis is failing: when a caller may try it again.
    retry_at: Option<Instant>,
}

pub struct RedisRefreshStore {
    client: redis::Client,
    shown_url: String,
    connection: tokio::sync::Mutex<Option<ConnectionManager>>,
    health: Mutex<Health>,
    /// Makes lock markers unique to this process and flight.
    owner: String,
    next_flight: AtomicU64,
    /// Whether the task that hears other processes' JWT revocations runs.
    listening: AtomicBool,
}

/// What the claim script answered.
enum Claimed {
    Lead,
    Wait,
    LoggedOut,
    Spent,
    Outcome(String),
}

impl Claimed {
    fn read(reply: &str) -> Self {
        match reply {
            "lead" => Claimed::Lead,
            "logged-out" => Claimed::LoggedOut,
            "spent" => Claimed::Spent,
            r if r.starts_with("r:") => Claimed::Outcome(r.to_string()),
            _ => Claimed::Wait,
        }
    }
}

impl RedisRefreshStore {
    /// Checks the URL; connects on first use.
    pub fn new(url: &str) -> Result<Self, String> {
        let shown_url = redacted(url);
        if !(url.starts_with("redis://") || url.starts_with("rediss://")) {
            return Err(format!(
                "refreshCoordination.redisUrl must start with redis:// or rediss:// (got {shown_url})"
            ));
        }
        let client = redis::Client::open(url)
            .map_err(|e| format!("refreshCoordination.redisUrl {shown_url} cannot be used: {e}"))?;
        let mut owner = [0u8; 8];
        aws_lc_rs::rand::fill(&mut owner).map_err(|_| "no system random source".to_string())?;
        Ok(RedisRefreshStore {
            client,
            shown_url,
            connection: tokio::sync::Mutex::new(None),
            health: Mutex::new(Health::default()),
            owner: hex(&owner),
            next_flight: AtomicU64::new(0),
            listening: AtomicBool::new(false),
        })
    }

    /// Whether this call may use Redis: always while it works; while it
    /// fails, one caller per RETRY_EVERY, so an outage costs the others
    /// nothing.
    fn admit(&self) -> bool {
        let mut health = self.health.lock().unwrap_or_else(|p| p.into_inner());
        match health.retry_at {
            None => true,
            Some(at) if Instant::now() >= at => {
                health.retry_at = Some(Instant::now() + RETRY_EVERY);
                true
            }
            Some(_) => false,
        }
    }

    /// Whether coordination is working (false during an outage). While it
    /// is, the in-process table only shares refreshes in flight: reusing a
    /// finished one is Redis's decision, so a logout on another process ends it.
    pub fn healthy(&self) -> bool {
        self.health.lock().unwrap_or_else(|p| p.into_inner()).retry_at.is_none()
    }

    fn failed(&self, error: &str) {
        let mut health = self.health.lock().unwrap_or_else(|p| p.into_inner());
        if health.retry_at.is_none() {
            warnings::push(format!(
                "Refresh coordination through Redis ({}) is unavailable: {error}. Refreshes are \
                 coordinated within this process only until Redis answers again (tried every {} s).",
                self.shown_url,
                RETRY_EVERY.as_secs()
            ));
        }
        health.retry_at = Some(Instant::now() + RETRY_EVERY);
    }

    fn succeeded(&self) {
        let mut health = self.health.lock().unwrap_or_else(|p| p.into_inner());
        if health.retry_at.take().is_some() {
            warnings::push(format!(
                "Refresh coordination through Redis ({}) works again: refreshes are shared across processes.",
                self.shown_url
            ));
        }
    }

    async fn connection(&self) -> Result<ConnectionManager, String> {
        let mut slot = self.connection.lock().await;
        if let Some(connection) = slot.as_ref() {
            return Ok(connection.clone());
        }
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CONNECT_DEADLINE))
            .set_response_timeout(Some(OP_DEADLINE))
            .set_number_of_retries(1)
            .set_max_delay(RETRY_EVERY);
        let connecting = ConnectionManager::new_with_config(self.client.clone(), config);
        let connection = match tokio::time::timeout(CONNECT_DEADLINE + OP_DEADLINE, connecting).await {
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
        *slot = Some(connection.clone());
        Ok(connection)
    }

    /// Runs one Redis operation with the deadline, recording the health;
    /// `None` when it failed (the failure is recorded, and warned of once).
    async fn checked<V>(
        &self,
        operation: impl AsyncFnOnce(&mut ConnectionManager) -> redis::RedisResult<V>,
    ) -> Option<V> {
        let result = async {
            let mut conn = self.connection().await?;
            match tokio::time::timeout(OP_DEADLINE, operation(&mut conn)).await {
                Ok(Ok(value)) => Ok(value),
                Ok(Err(e)) => Err(e.to_string()),
                Err(_) => Err(format!("no answer within {} ms", millis(OP_DEADLINE))),
            }
        }
        .await;
        match result {
            Ok(value) => {
                self.succeeded();
                Some(value)
            }
            Err(error) => {
                self.failed(&error);
                None
            }
        }
    }

    async fn call<V: redis::FromRedisValue>(&self, invocation: redis::ScriptInvocation<'static>) -> Option<V> {
        self.checked(async |conn| invocation.invoke_async::<V>(conn).await).await
    }

    async fn get(&self, key: &str) -> Option<Option<String>> {
        self.checked(async |conn| redis::cmd("GET").arg(key).query_async::<Option<String>>(conn).await).await
    }

    fn record_key(id: &str) -> String {
        format!("{KEY_PREFIX}refresh:{id}")
    }

    fn predecessor_key(id: &str) -> String {
        format!("{KEY_PREFIX}refreshed-from:{id}")
    }

    fn spent_key(id: &str) -> String {
        format!("{KEY_PREFIX}spent:{id}")
    }

    /// Starts, once per store, the task that hears the JWTs other processes'
    /// logouts refused and refuses them here too. It reconnects whenever the
    /// subscription is lost; revocations announced meanwhile are missed
    /// (refresh tokens are not: their markers are in the keys).
    pub fn listen_for_revocations(self: &Arc<Self>) {
        if self.listening.swap(true, Ordering::AcqRel) {
            return;
        }
        /// Lets a later call start the task again should this one be dropped
        /// (its runtime shut down with the last JavaScript environment).
        struct Listening(Arc<RedisRefreshStore>);
        impl Drop for Listening {
            fn drop(&mut self) {
                self.0.listening.store(false, Ordering::Release);
            }
        }
        let listening = Listening(self.clone());
        tokio::spawn(async move {
            let store = &listening.0;
            loop {
                let subscribed = async {
                    let mut pubsub = store.client.get_async_pubsub().await?;
                    pubsub.subscribe(REVOKED_JWTS_CHANNEL).await?;
                    Ok::<_, redis::RedisError>(pubsub)
                };
                if let Ok(Ok(pubsub)) = tokio::time::timeout(CONNECT_DEADLINE + OP_DEADLINE, subscribed).await {
                    let mut messages = pubsub.into_on_message();
                    while let Some(message) = futures_util::StreamExt::next(&mut messages).await {
                        if let Ok(text) = message.get_payload::<String>() {
                            for (digest, memory) in text.split(' ').filter_map(parse_revocation) {
                                crate::revoked_jwts::revoke_digest(digest, memory);
                            }
                        }
                    }
                }
                tokio::time::sleep(RETRY_EVERY).await;
            }
        });
    }

    /// Tells every subscribed process that these JWTs (digests, with how
    /// long to refuse each) are refused as sessions from now on.
    pub async fn announce_revoked_jwts(self: &Arc<Self>, revoked: &[([u8; 32], Duration)]) {
        if revoked.is_empty() || !self.admit() {
            return;
        }
        self.listen_for_revocations();
        let message: Vec<String> =
            revoked.iter().map(|(digest, memory)| format!("{}:{}", hex(digest), memory.as_secs())).collect();
        let message = message.join(" ");
        self.checked(async |conn| {
            redis::cmd("PUBLISH").arg(REVOKED_JWTS_CHANNEL).arg(&message).query_async::<i64>(conn).await
        })
        .await;
    }

    /// Runs `refresh` unless another process is refreshing `flight_key`'s
    /// token (then waits for its outcome) or finished within the grace
    /// window (then reuses it). `lock_for` bounds how long others wait for
    /// this process should it die mid-refresh: the refresh's own deadline
    /// plus a margin. `successor` names (as a flight key) the token an
    /// outcome issued, so a logout with that token reaches this record.
    pub async fn run<T, F, Fut>(
        self: &Arc<Self>,
        flight_key: &str,
        grace: Duration,
        lock_for: Duration,
        successor: impl Fn(&T) -> Option<String>,
        refresh: F,
    ) -> RefreshHandout<T>
    where
        T: SharedOutcome,
        F: FnOnce() -> Fut,
        Fut: Future<Output = T>,
    {
        if !self.admit() {
            return RefreshHandout::Outcome(refresh().await);
        }
        self.listen_for_revocations();
        let id = record_id(flight_key);
        let key = Self::record_key(&id);
        let spent_key = Self::spent_key(&id);
        let lock = format!("lock:{}:{}", self.owner, self.next_flight.fetch_add(1, Ordering::Relaxed));
        let grace = grace.min(ROTATION_GRACE);
        // A waiting process gives up past this and refreshes itself.
        let wait_until = Instant::now() + lock_for * 2;
        let mut waiting = false;
        loop {
            let looked = if waiting {
                tokio::time::sleep(POLL_EVERY).await;
                match self.get(&key).await {
                    None => return RefreshHandout::Outcome(refresh().await),
                    Some(value) => value.map(|value| Claimed::read(&value)),
                }
            } else {
                None
            };
            // Nothing there (first look, or the leader's lock expired
            // because it died): the claim script decides.
            let claimed = match looked {
                Some(claimed) => claimed,
                None => {
                    let mut claim = CLAIM_SCRIPT.prepare_invoke();
                    claim
                        .key(&key)
                        .key(&spent_key)
                        .arg(&lock)
                        .arg(millis(lock_for))
                        .arg(millis(grace))
                        .arg(millis(REFUSAL_WINDOW));
                    match self.call::<String>(claim).await {
                        None => return RefreshHandout::Outcome(refresh().await),
                        Some(reply) => Claimed::read(&reply),
                    }
                }
            };
            match claimed {
                Claimed::Lead => break,
                Claimed::LoggedOut => return RefreshHandout::LoggedOut { to_revoke: None },
                Claimed::Spent => return RefreshHandout::Outcome(T::already_spent()),
                Claimed::Outcome(record) => {
                    let opened = open(flight_key, &id, &record)
                        .and_then(|(header, plain)| T::decode(&plain).map(|outcome| (header, outcome)));
                    let Some((header, outcome)) = opened else {
                        // Not written by a holder of this token: ignore it.
                        return RefreshHandout::Outcome(refresh().await);
                    };
                    if !header.usable(wall_clock_ms(), waiting, grace) {
                        // Written back after its time (a replay), or seen
                        // too late: the token was presented, so it is not
                        // again, unless what came back was an outage.
                        return match header.verdict {
                            Verdict::Failed => RefreshHandout::Outcome(refresh().await),
                            _ => RefreshHandout::Outcome(T::already_spent()),
                        };
                    }
                    if outcome.logged_out() {
                        // Its session was logged out (announced to this
                        // process): whatever Redis says now, it stays out.
                        return RefreshHandout::LoggedOut { to_revoke: None };
                    }
                    return RefreshHandout::Outcome(outcome);
                }
                Claimed::Wait => {
                    if Instant::now() >= wait_until {
                        return RefreshHandout::Outcome(refresh().await);
                    }
                    waiting = true;
                }
            }
        }

        let outcome = refresh().await;
        let verdict = outcome.verdict();
        let keep = match verdict {
            Verdict::Succeeded => grace.max(PICKUP_WINDOW),
            Verdict::Refused => REFUSAL_WINDOW.max(PICKUP_WINDOW),
            Verdict::Failed => PICKUP_WINDOW,
        };
        let header = RecordHeader { keep, grace, verdict, created_ms: wall_clock_ms() }.text();
        let record = seal(flight_key, &id, &header, &outcome.encode());
        let next_id = match verdict {
            Verdict::Succeeded => successor(&outcome).map(|next| record_id(&next)),
            _ => None,
        };
        let predecessor_key = next_id.as_deref().map(Self::predecessor_key).unwrap_or_default();
        let spent_for = match verdict {
            Verdict::Succeeded | Verdict::Refused => millis(SPENT_WINDOW).to_string(),
            Verdict::Failed => String::new(),
        };
        let mut publish = PUBLISH_SCRIPT.prepare_invoke();
        publish
            .key(&key)
            .key(&predecessor_key)
            .key(&spent_key)
            .arg(&lock)
            .arg(&record)
            .arg(millis(keep))
            .arg(if next_id.is_some() { id.as_str() } else { "" })
            .arg(spent_for);
        let reply = self.call::<String>(publish).await;
        match reply.as_deref() {
            Some("logged-out") => RefreshHandout::LoggedOut { to_revoke: Some(outcome) },
            _ => RefreshHandout::Outcome(outcome),
        }
    }

    /// Ends the grace window of `flight_key`'s token across processes: its
    /// record, the records that led to it, and (opening each with the token
    /// it holds) the ones that followed from it. Returns the finished
    /// outcomes dropped after it, so the tokens they issued can be revoked.
    pub async fn forget<T: SharedOutcome>(
        self: &Arc<Self>,
        flight_key: &str,
        successor: impl Fn(&T) -> Option<String>,
    ) -> Vec<T> {
        let mut dropped = Vec::new();
        if !self.admit() {
            return dropped;
        }
        self.listen_for_revocations();
        let mut current = flight_key.to_string();
        for _ in 0..MAX_CHAIN {
            let id = record_id(&current);
            let (key, record_prefix, predecessor_prefix) =
                (Self::record_key(&id), Self::record_key(""), Self::predecessor_key(""));
            let mut logout = LOGOUT_SCRIPT.prepare_invoke();
            logout
                .key(&key)
                .arg(millis(LOGOUT_WINDOW))
                .arg(&record_prefix)
                .arg(&predecessor_prefix)
                .arg(&id)
                .arg(MAX_CHAIN);
            let old = self.call::<Option<String>>(logout).await;
            let Some(Some(old)) = old else { break };
            // Followed whatever its age: a logout revokes more, never less.
            let Some(outcome) = open(&current, &id, &old).and_then(|(_, plain)| T::decode(&plain)) else { break };
            let next = (outcome.verdict() == Verdict::Succeeded).then(|| successor(&outcome)).flatten();
            dropped.push(outcome);
            match next {
                Some(next) => current = next,
                None => break,
            }
        }
        dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_outcomes_open_only_with_the_same_flight_key_and_unaltered() {
        let key = "https://crossmint\nsk_key\nrefresh-secret-1";
        let id = record_id(key);
        let header = "r:30000:30000:succeeded:1700000000000:";
        let record = seal(key, &id, header, b"{\"jwt\":\"eyJ.secret\"}");
        assert!(!record.contains("eyJ") && !record.contains("secret"), "{record}");
        let (opened_header, plain) = open(key, &id, &record).unwrap();
        assert_eq!(plain, b"{\"jwt\":\"eyJ.secret\"}");
        assert_eq!(opened_header.text(), header);
        // Another token, another API key, another record id.
        assert_eq!(open("https://crossmint\nsk_key\nrefresh-secret-2", &id, &record), None);
        assert_eq!(open("https://crossmint\nsk_other\nrefresh-secret-1", &id, &record), None);
        assert_eq!(open(key, &record_id("other"), &record), None);
        // The header is authenticated: a refusal cannot be turned into a success.
        let altered = record.replacen("r:30000:30000:succeeded:", "r:30000:30000:refused:", 1);
        assert_eq!(open(key, &id, &altered), None);
        let altered = record.replacen("r:30000:30000:", "r:30000:99999:", 1);
        assert_eq!(open(key, &id, &altered), None);
        // Nor can its creation time be moved to make it young again.
        let altered = record.replacen(":1700000000000:", ":1700000099999:", 1);
        assert_eq!(open(key, &id, &altered), None);
        for garbage in ["", "r:", "r:1:2:succeeded:", "r:1:2:succeeded:3:!!!!", "lock:owner:1", "logged-out"] {
            assert_eq!(open(key, &id, garbage), None, "{garbage}");
        }
        // Two seals of the same outcome differ (fresh nonce).
        assert_ne!(record, seal(key, &id, header, b"{\"jwt\":\"eyJ.secret\"}"));
    }

    #[test]
    fn a_record_is_used_only_within_its_sealed_window_by_the_readers_clock() {
        let written = 1_700_000_000_000;
        let success = RecordHeader {
            keep: Duration::from_secs(30),
            grace: Duration::from_secs(30),
            verdict: Verdict::Succeeded,
            created_ms: written,
        };
        let at = |seconds: u64| written + seconds * 1000;
        assert!(success.usable(at(10), false, Duration::from_secs(30)));
        assert!(!success.usable(at(10), false, Duration::from_secs(5)), "the caller's shorter grace");
        assert!(success.usable(at(31), true, Duration::ZERO), "within keep and the clock allowance");
        assert!(!success.usable(at(33), true, Duration::ZERO));
        assert!(!success.usable(at(3600), false, Duration::from_secs(30)), "written back an hour later");
        assert!(success.usable(written - 5000, false, Duration::from_secs(30)), "a reader whose clock is behind");
        let refused = RecordHeader { verdict: Verdict::Refused, ..success };
        assert!(refused.usable(at(6), false, Duration::ZERO) && !refused.usable(at(8), false, Duration::ZERO));
        let failed = RecordHeader { verdict: Verdict::Failed, keep: PICKUP_WINDOW, ..success };
        assert!(!failed.usable(at(0), false, Duration::from_secs(30)), "a failure serves only waiters");
        assert!(failed.usable(at(1), true, Duration::ZERO));
    }

    #[test]
    fn record_names_do_not_contain_the_token() {
        let id = record_id("dest\nsk_key\nthe-refresh-token");
        assert_eq!(id.len(), 64);
        assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(id, record_id("dest\nsk_key\nthe-refresh-tokeN"));
    }

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
                let error = RedisRefreshStore::new(&url).err().unwrap_or_default();
                for fragment in password.split(['/', '@', ':', '%', '?', '#']).filter(|f| f.len() >= 3) {
                    assert!(!error.contains(fragment), "{url} -> {error}");
                }
            }
        }
        assert!(RedisRefreshStore::new("redis://127.0.0.1:6379/0").is_ok());
        assert!(RedisRefreshStore::new("rediss://user:pw@127.0.0.1:6380").is_ok());
        let error = RedisRefreshStore::new("http://:hunter2@127.0.0.1:6379").err().unwrap();
        assert!(error.contains("redis://") && !error.contains("hunter2"), "{error}");
        let error = RedisRefreshStore::new("redis://:hunter2@127.0.0.1:notaport").err().unwrap();
        assert!(!error.contains("hunter2"), "{error}");
    }
}
