//! A bounded map whose entries expire: what the tables of ended tokens
//! (logged out, rotated, revoked) need. Anyone can add entries (a logout needs
//! no credentials), so every operation costs the same whatever the size:
//! entries leave in insertion order through a queue, expired ones on each
//! insert, the oldest when the map is full.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::time::Instant;

pub struct ExpiringMap<K, V> {
    entries: HashMap<K, (V, Instant, u64)>,
    /// (key, serial) in insertion order; a serial that no longer matches the
    /// entry's means the key was inserted again later, and is skipped.
    order: VecDeque<(K, u64)>,
    next_serial: u64,
    capacity: usize,
}

impl<K: Hash + Eq + Copy, V> ExpiringMap<K, V> {
    pub fn new(capacity: usize) -> Self {
        ExpiringMap { entries: HashMap::new(), order: VecDeque::new(), next_serial: 0, capacity: capacity.max(1) }
    }

    /// The value for `key` while it has not expired.
    pub fn get(&self, key: &K, now: Instant) -> Option<&V> {
        self.entries.get(key).filter(|(_, until, _)| now < *until).map(|(value, _, _)| value)
    }

    /// Inserts or replaces `key`'s value, valid until `until`.
    pub fn insert(&mut self, key: K, value: V, until: Instant, now: Instant) {
        self.drop_expired_front(now);
        while self.entries.len() >= self.capacity && !self.entries.contains_key(&key) {
            if !self.drop_oldest() {
                break;
            }
        }
        self.next_serial += 1;
        self.entries.insert(key, (value, until, self.next_serial));
        self.order.push_back((key, self.next_serial));
        // Keys inserted again leave stale queue slots; keep the queue within
        // a constant factor of the map so it cannot grow without bound.
        if self.order.len() > 2 * self.capacity {
            let entries = &self.entries;
            self.order.retain(|(key, serial)| entries.get(key).is_some_and(|(_, _, s)| s == serial));
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.len()
    }

    /// Drops expired entries at the front of the queue. Entries all get
    /// windows of similar length, so the front is where expiry happens.
    fn drop_expired_front(&mut self, now: Instant) {
        while let Some((key, serial)) = self.order.front().copied() {
            match self.entries.get(&key) {
                Some((_, until, s)) if *s == serial => {
                    if now < *until {
                        break;
                    }
                    self.entries.remove(&key);
                }
                _ => {}
            }
            self.order.pop_front();
        }
    }

    fn drop_oldest(&mut self) -> bool {
        while let Some((key, serial)) = self.order.pop_front() {
            if self.entries.get(&key).is_some_and(|(_, _, s)| *s == serial) {
                self.entries.remove(&key);
                return true;
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn entries_expire_and_the_oldest_leave_first_when_full() {
        let now = Instant::now();
        let later = now + Duration::from_secs(60);
        let mut map = ExpiringMap::new(3);
        for key in 0..3 {
            map.insert(key, "v", later, now);
        }
        map.insert(3, "v", later, now);
        assert_eq!(map.len(), 3);
        assert_eq!(map.get(&0, now), None, "the oldest left");
        assert_eq!(map.get(&3, now), Some(&"v"));
        assert_eq!(map.get(&3, later), None, "expired");
        map.insert(9, "w", later + Duration::from_secs(1), later);
        assert_eq!((map.len(), map.get(&9, later)), (1, Some(&"w")), "expired entries left on insert");
    }

    #[test]
    fn inserting_a_key_again_replaces_it_and_keeps_the_queue_bounded() {
        let now = Instant::now();
        let mut map = ExpiringMap::new(4);
        for round in 0..1_000u32 {
            map.insert(1, round, now + Duration::from_secs(60), now);
        }
        assert_eq!((map.len(), map.get(&1, now)), (1, Some(&999)));
        assert!(map.order.len() <= 8, "{}", map.order.len());
        for key in 2..6 {
            map.insert(key, 0, now + Duration::from_secs(60), now);
        }
        assert_eq!(map.len(), 4);
        assert_eq!(map.get(&1, now), None, "key 1 was the oldest");
    }
}
