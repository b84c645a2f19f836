//! A map that keeps at most a fixed number of entries, forgetting the oldest
//! first: for per-session state a codec keeps by id (tool names by call,
//! settled transcript text by item), which would otherwise grow with the
//! session. Entries are normally removed when their item ends; the cap is
//! the guard for those that never end (a provider that never completes a
//! transcript, a call that is never answered).

use std::borrow::Borrow;
use std::collections::{HashMap, VecDeque};
use std::hash::Hash;

/// A map of at most `cap` entries; inserting a new key at the cap evicts the
/// oldest inserted one.
#[derive(Debug, Clone)]
pub struct BoundedMap<K, V> {
    map: HashMap<K, V>,
    order: VecDeque<K>,
    cap: usize,
}

impl<K: Eq + Hash + Clone, V> BoundedMap<K, V> {
    /// An empty map that keeps at most `cap` entries (at least one).
    pub fn new(cap: usize) -> Self {
        BoundedMap {
            map: HashMap::new(),
            order: VecDeque::new(),
            cap: cap.max(1),
        }
    }

    /// How many entries it keeps at most.
    pub fn cap(&self) -> usize {
        self.cap
    }

    /// How many entries it holds.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether it holds no entry.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// The value for `key`.
    pub fn get<Q>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        self.map.get(key)
    }

    /// Sets `key` to `value` (a new key evicts the oldest at the cap; an
    /// existing key keeps its age).
    pub fn insert(&mut self, key: K, value: V) {
        if let Some(slot) = self.map.get_mut(&key) {
            *slot = value;
            return;
        }
        self.make_room();
        self.order.push_back(key.clone());
        self.map.insert(key, value);
    }

    /// The value for `key`, inserted as `V::default()` when absent (which
    /// may evict the oldest entry).
    pub fn get_or_default(&mut self, key: &K) -> &mut V
    where
        V: Default,
    {
        if !self.map.contains_key(key) {
            self.insert(key.clone(), V::default());
        }
        self.map.entry(key.clone()).or_default()
    }

    /// Removes `key`, returning its value.
    pub fn remove<Q>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        let value = self.map.remove(key)?;
        self.order.retain(|k| k.borrow() != key);
        Some(value)
    }

    fn make_room(&mut self) {
        while self.map.len() >= self.cap {
            match self.order.pop_front() {
                Some(oldest) => {
                    self.map.remove(&oldest);
                }
                None => break,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oldest_entry_goes_first_at_the_cap() {
        let mut map = BoundedMap::new(2);
        map.insert("a", 1);
        map.insert("b", 2);
        map.insert("a", 10); // an update keeps its age
        map.insert("c", 3);
        assert_eq!(map.len(), 2);
        assert_eq!(map.get(&"a"), None);
        assert_eq!((map.get(&"b"), map.get(&"c")), (Some(&2), Some(&3)));
    }

    #[test]
    fn removed_entries_free_their_place() {
        let mut map = BoundedMap::new(2);
        map.insert("a", 1);
        map.insert("b", 2);
        assert_eq!(map.remove(&"a"), Some(1));
        map.insert("c", 3);
        assert_eq!((map.get(&"b"), map.get(&"c")), (Some(&2), Some(&3)));
        *map.get_or_default(&"d") += 4;
        assert_eq!(map.len(), 2);
        assert_eq!(map.get(&"d"), Some(&4));
        assert_eq!(map.get(&"b"), None);
    }
}
