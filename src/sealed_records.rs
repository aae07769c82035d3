//! The records processes share to coordinate refreshes, whatever holds
//! them (Redis, or the embedded store on one host): their names, their
//! sealing, and for how long each may be used.
//!
//! A record is named by the SHA-256 of its flight key (destination, API key
//! and refresh token; never the token itself) and sealed with AES-256-GCM
//! under a key derived (HKDF) from that same flight key. Reading the store
//! without the API key and the old refresh token reveals that a refresh
//! happened and whether it succeeded, nothing more. The header (verdict,
//! windows, creation time) is authenticated with the sealed outcome, and a
//! reader uses a record only within its window by its own clock: a record
//! copied and written back later opens, but is too old.

use std::time::Duration;

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use aws_lc_rs::digest::{digest, SHA256};
use aws_lc_rs::hkdf::{Salt, HKDF_SHA256};
use base64::engine::general_purpose::STANDARD_NO_PAD as BASE64;
use base64::Engine as _;

/// How long an outcome stays for processes that were already waiting, when
/// the grace window (possibly 0) is shorter.
pub const PICKUP_WINDOW: Duration = Duration::from_secs(3);
/// How long a refused refresh is handed to newcomers: the token is dead,
/// and they fail fast instead of asking Crossmint again.
pub const REFUSAL_WINDOW: Duration = Duration::from_secs(5);
/// How long a logout's marker stays: longer than any lock or grace window,
/// and than the retries of the token's revocation at Crossmint (after which
/// Crossmint refuses the token itself). A logout needs no credentials, so a
/// flood of them costs the store this long per logout (about 100 bytes each).
pub const LOGOUT_WINDOW: Duration = Duration::from_secs(120);
/// How long a rotated (or refused) token's marker stays: a late request
/// carrying it on any process is answered without presenting it again.
pub const SPENT_WINDOW: Duration = crate::refresh_flight::ROTATED_MEMORY;
/// How far apart the clocks of the processes sharing a store may be: a
/// record's age is read against the sealed creation time by the reader's own
/// clock, and this much is allowed on top of every window.
pub const CLOCK_SKEW: Duration = Duration::from_secs(2);
/// A logout follows a rotation chain this many links at most.
pub const MAX_CHAIN: usize = 16;

const KEY_PREFIX: &str = "crossmint-auth:";
const HKDF_SALT: &[u8] = b"crossmint-server-native refresh coordination v1";

// Every key of one record id carries the id as a hash tag (`{...}`), so on a
// Redis Cluster they live on one node and a step touching them is atomic.

/// The record of a flight (its lock, logout marker or sealed outcome).
pub fn record_key(id: &str) -> String {
    format!("{KEY_PREFIX}refresh:{{{id}}}")
}

/// Names the record whose refresh issued the token of record `id`.
pub fn predecessor_key(id: &str) -> String {
    format!("{KEY_PREFIX}refreshed-from:{{{id}}}")
}

/// Set once the token of record `id` was exchanged or refused.
pub fn spent_key(id: &str) -> String {
    format!("{KEY_PREFIX}spent:{{{id}}}")
}

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
    /// How the verdict is written in a record's header (and read by the claim).
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Succeeded => "succeeded",
            Verdict::Refused => "refused",
            Verdict::Failed => "failed",
        }
    }
}

/// A refresh outcome that can be stored in a shared store.
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

/// What a logout leaves in a record's place.
pub const LOGGED_OUT: &str = "logged-out";

/// What a record's authenticated header says: how long it may be used, by
/// whom, and when it was written (ms since the epoch, the writer's clock).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordHeader {
    pub keep: Duration,
    pub grace: Duration,
    pub verdict: Verdict,
    pub created_ms: u64,
}

impl RecordHeader {
    /// A record's header, as written, and the sealed body after it; not
    /// authenticated (`open` is what checks it): a store reads it only to
    /// decide whether to answer the record at all.
    pub fn read(record: &str) -> Option<(RecordHeader, &str)> {
        let mut fields = record.splitn(6, ':');
        let (tag, keep, grace, verdict, created, body) =
            (fields.next()?, fields.next()?, fields.next()?, fields.next()?, fields.next()?, fields.next()?);
        if tag != "r" {
            return None;
        }
        let header = RecordHeader {
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
        Some((header, body))
    }

    /// `r:<keep ms>:<grace ms>:<verdict>:<created ms>:`
    pub fn text(&self) -> String {
        format!("r:{}:{}:{}:{}:", millis(self.keep), millis(self.grace), self.verdict.name(), self.created_ms)
    }

    /// Whether a reader may still use the record by its own clock: a process
    /// that was waiting for it within `keep`, a newcomer within the grace
    /// window (its own, when shorter) for a success and REFUSAL_WINDOW for a
    /// refusal; a failure serves only waiters. A record copied out of Redis
    /// and written back later is too old here whatever its TTL says.
    pub fn usable(&self, now_ms: u64, waiting: bool, caller_grace: Duration) -> bool {
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

pub fn wall_clock_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, millis)
}

/// The header's text followed by the sealed outcome; the header is
/// authenticated with it.
pub fn seal(flight_key: &str, id: &str, header: &str, plaintext: &[u8]) -> String {
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
pub fn open(flight_key: &str, id: &str, record: &str) -> Option<(RecordHeader, Vec<u8>)> {
    let (parsed, body) = RecordHeader::read(record)?;
    let header = &record[..record.len() - body.len()];
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

pub fn millis(d: Duration) -> u64 {
    d.as_millis().min(u64::MAX as u128) as u64
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `<64 hex digits>:<seconds>` as `announce_revoked_jwts` writes it.
pub fn parse_revocation(item: &str) -> Option<([u8; 32], Duration)> {
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

/// The message `parse_revocation` reads: digests, with how long to refuse each.
pub fn revocation_message(revoked: &[([u8; 32], Duration)]) -> String {
    let items: Vec<String> =
        revoked.iter().map(|(digest, memory)| format!("{}:{}", hex(digest), memory.as_secs())).collect();
    items.join(" ")
}

pub fn record_id(flight_key: &str) -> String {
    hex(digest(&SHA256, flight_key.as_bytes()).as_ref())
}

fn sealing_key(flight_key: &str, id: &str) -> LessSafeKey {
    let prk = Salt::new(HKDF_SHA256, HKDF_SALT).extract(flight_key.as_bytes());
    let info = [id.as_bytes()];
    let okm = prk.expand(&info, &AES_256_GCM).expect("32 bytes is a valid HKDF-SHA256 length");
    LessSafeKey::new(UnboundKey::from(okm))
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
    fn revocation_messages_read_back() {
        let message = revocation_message(&[([7u8; 32], Duration::from_secs(90)), ([9u8; 32], Duration::from_secs(1))]);
        let read: Vec<_> = message.split(' ').filter_map(parse_revocation).collect();
        assert_eq!(read, vec![([7u8; 32], Duration::from_secs(90)), ([9u8; 32], Duration::from_secs(1))]);
        assert_eq!(parse_revocation("zz:1"), None);
    }
}
