//! A map bounded in entries and emptied when full, for tables whose entries
//! can always be rebuilt (accepted API keys, verification records, verifiers
//! and key sets per URI): a miss after the emptying costs one recomputation,
//! never a wrong answer, and no per-entry bookkeeping is needed to decide
//! what to drop. Tables whose entries must outlive a flood (ended tokens)
//! use `ExpiringMap` instead.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;

pub struct BoundedMap<K, V> {
    entries: HashMap<K, V>,
    capacity: usize,
}

impl<K: Hash + Eq, V> BoundedMap<K, V> {
    pub fn new(capacity: usize) -> Self {
        BoundedMap { entries: HashMap::new(), capacity: capacity.max(1) }
    }

    pub fn get<Q: Hash + Eq + ?Sized>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
    {
        self.entries.get(key)
    }

    pub fn get_mut<Q: Hash + Eq + ?Sized>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
    {
        self.entries.get_mut(key)
    }

    /// Inserts `value`, emptying the map first when it is full and `key` is new.
    pub fn insert(&mut self, key: K, value: V) {
        if self.entries.len() >= self.capacity && !self.entries.contains_key(&key) {
            self.entries.clear();
        }
        self.entries.insert(key, value);
    }

    /// The value for `key`, made by `make` and inserted when absent.
    pub fn get_or_insert_with(&mut self, key: K, make: impl FnOnce() -> V) -> &mut V
    where
        K: Clone,
    {
        if !self.entries.contains_key(&key) {
            self.insert(key.clone(), make());
        }
        self.entries.get_mut(&key).expect("inserted just above")
    }

    pub fn remove<Q: Hash + Eq + ?Sized>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
    {
        self.entries.remove(key)
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emptied_when_a_new_key_would_pass_the_capacity() {
        let mut map = BoundedMap::new(3);
        for key in 0..3 {
            map.insert(key, key * 10);
        }
        map.insert(2, 21);
        assert_eq!((map.len(), map.get(&0)), (3, Some(&0)), "replacing a key never empties");
        map.insert(3, 30);
        assert_eq!((map.len(), map.get(&0), map.get(&3)), (1, None, Some(&30)));
        assert_eq!(*map.get_or_insert_with(4, || 40), 40);
        assert_eq!(*map.get_or_insert_with(4, || 99), 40, "made only when absent");
        assert_eq!(map.remove(&4), Some(40));
    }
}
