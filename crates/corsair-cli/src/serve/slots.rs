//! [`Slots`]: the per-worker lists of wakers behind [`super::timer`] and
//! [`super::drain`]. An entry keeps its index while it lives (its owner
//! holds the index to update or remove it), and freed indexes are reused,
//! so registering and leaving are O(1) and the list stays as long as the
//! most entries ever alive at once.

use std::task::Waker;

/// Entries that keep their index while they live.
#[derive(Debug)]
pub struct Slots<T> {
    entries: Vec<Option<T>>,
    free: Vec<usize>,
}

impl<T> Default for Slots<T> {
    fn default() -> Self {
        Slots {
            entries: Vec::new(),
            free: Vec::new(),
        }
    }
}

impl<T> Slots<T> {
    /// Stores `value`; returns its index.
    pub fn insert(&mut self, value: T) -> usize {
        match self.free.pop() {
            Some(i) => {
                self.entries[i] = Some(value);
                i
            }
            None => {
                self.entries.push(Some(value));
                self.entries.len() - 1
            }
        }
    }

    /// The entry at `i`, if it is alive.
    pub fn get_mut(&mut self, i: usize) -> Option<&mut T> {
        self.entries.get_mut(i).and_then(Option::as_mut)
    }

    /// Removes the entry at `i` (nothing if it is not alive).
    pub fn remove(&mut self, i: usize) {
        if let Some(entry) = self.entries.get_mut(i) {
            if entry.take().is_some() {
                self.free.push(i);
            }
        }
    }

    /// The live entries.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.entries.iter().flatten()
    }

    /// Removes every entry, returning them.
    pub fn take_all(&mut self) -> Vec<T> {
        self.free.clear();
        self.entries.drain(..).flatten().collect()
    }

    /// How many entries are alive.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.entries.len() - self.free.len()
    }

    /// How many slots exist, alive or free.
    #[cfg(test)]
    pub fn capacity(&self) -> usize {
        self.entries.len()
    }
}

/// Makes `stored` wake the task `current` wakes (cloning only when it is
/// another task).
pub fn refresh(stored: &mut Waker, current: &Waker) {
    if !stored.will_wake(current) {
        *stored = current.clone();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indexes_stay_and_freed_ones_are_reused() {
        let mut s = Slots::default();
        let a = s.insert("a");
        let b = s.insert("b");
        assert_eq!((a, b), (0, 1));
        s.remove(a);
        s.remove(a); // twice: nothing more
        assert_eq!(s.len(), 1);
        assert_eq!(s.get_mut(b), Some(&mut "b"));
        assert_eq!(s.get_mut(a), None);
        assert_eq!(s.insert("c"), a);
        assert_eq!(s.capacity(), 2);
        let mut all = s.take_all();
        all.sort();
        assert_eq!(all, ["b", "c"]);
        assert_eq!(s.len(), 0);
        assert_eq!(s.insert("d"), 0);
    }
}
