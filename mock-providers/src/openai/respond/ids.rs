//! Deterministic ids (`event_…`, `item_…`, `resp_…`, `call_…`, `sess_…`).
//!
//! The service's ids look random; the mock's must not be, so that two runs of
//! one session with one seed produce the same frames. An xorshift generator
//! seeded per session draws sixteen letters and digits after the prefix. The
//! order in which ids are drawn is part of the output: moving a draw changes
//! every id after it.

/// Deterministic id source.
#[derive(Debug)]
pub(crate) struct Ids {
    state: u64,
}

impl Ids {
    /// A source for the session with `seed`.
    pub(crate) fn new(seed: u64) -> Self {
        Ids {
            state: seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1,
        }
    }

    /// The next id: `prefix`, `_`, sixteen characters.
    pub(crate) fn next(&mut self, prefix: &str) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        let mut out = String::with_capacity(prefix.len() + 17);
        out.push_str(prefix);
        out.push('_');
        for _ in 0..16 {
            self.state ^= self.state << 13;
            self.state ^= self.state >> 7;
            self.state ^= self.state << 17;
            out.push(ALPHABET[(self.state % ALPHABET.len() as u64) as usize] as char);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_prefixed_deterministic_per_seed_and_distinct() {
        let mut a = Ids::new(7);
        let mut b = Ids::new(7);
        let first = a.next("item");
        assert!(first.starts_with("item_"));
        assert_eq!(first.len(), "item_".len() + 16);
        assert_eq!(first, b.next("item"));
        assert_ne!(a.next("item"), first);
        assert_ne!(Ids::new(8).next("item"), first);
    }
}
