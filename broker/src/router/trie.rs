//! Pieces shared by the two tries: splitting a topic into levels, pruning the chain of nodes a
//! removal left empty, and a work stack for walks that must not recurse.
//!
//! Nothing here recurses: a topic of 65,535 bytes can have 65,536 levels, and a recursive walk
//! (or the compiler's recursive drop of nested maps) would overflow a thread's stack on it.

/// The first level of `rest` and what follows its `/`; `None` once the last level is taken.
///
/// Walks carry the unread part of a topic as `Option<&str>`, with `None` meaning "no level
/// left", so that `"a/"` (two levels, the second empty) and `"a"` stay distinct
/// [MQTT-4.7.3-4]. Iterating this way allocates nothing.
#[inline]
pub(super) fn next_level(rest: &str) -> (&str, Option<&str>) {
    match rest.split_once('/') {
        Some((level, tail)) => (level, Some(tail)),
        None => (rest, None),
    }
}

/// The levels of a path, `None` being the root (no level at all).
pub(super) fn levels(path: Option<&str>) -> impl Iterator<Item = &str> + Clone {
    path.into_iter().flat_map(|p| p.split('/'))
}

/// A node of a trie keyed by topic level, as far as pruning and dropping need to know it.
pub(super) trait TrieNode: Sized {
    /// The child reached through `level`.
    fn child(&self, level: &str) -> Option<&Self>;
    /// The child reached through `level`, mutably.
    fn child_mut(&mut self, level: &str) -> Option<&mut Self>;
    /// Detaches the child reached through `level`, returning it.
    fn take_child(&mut self, level: &str) -> Option<Self>;
    /// How many children the node has.
    fn degree(&self) -> usize;
    /// Whether the node holds anything besides its children (subscribers, a message).
    fn holds_data(&self) -> bool;
    /// Moves every child of the node into `out`, leaving it childless.
    fn drain_children(&mut self, out: &mut Vec<Self>);
}

/// Removes the nodes along `path` that hold nothing any more, bottom up: the longest chain
/// ending at the node of `path` in which every node is empty and has no other child.
///
/// Called after a removal at `path`, this keeps memory proportional to what is stored. It walks
/// the path twice (once to find where to cut, once to cut) and is O(levels). Returns how many
/// nodes were removed.
pub(super) fn prune<'p, N: TrieNode>(
    root: &mut N,
    path: impl Iterator<Item = &'p str> + Clone,
) -> usize {
    // Find the deepest node on the path that must stay: the root, or one that holds data or
    // has a child off the path. The edge below it is the one to cut.
    let mut cut = None;
    let mut node = &*root;
    let mut depth = 0;
    for (d, level) in path.clone().enumerate() {
        if d == 0 || node.holds_data() || node.degree() > 1 {
            cut = Some((d, level));
        }
        match node.child(level) {
            Some(child) => node = child,
            None => return 0, // the path is gone already
        }
        depth = d + 1;
    }
    let Some((at, level)) = cut else {
        return 0; // the path is the root, which always stays
    };
    if node.holds_data() || node.degree() > 0 {
        return 0;
    }
    let mut parent = root;
    for step in path.take(at) {
        match parent.child_mut(step) {
            Some(child) => parent = child,
            None => return 0,
        }
    }
    // The detached chain is dropped here; `Drop` of the node types does not recurse.
    drop(parent.take_child(level));
    depth - at
}

/// Empties `node` of its whole subtrie without recursing, however deep it is.
///
/// Both node types call this from their `Drop`: each node popped here has already lost its
/// children to the work list, so its own drop finds nothing to recurse into.
pub(super) fn drain_iteratively<N: TrieNode>(node: &mut N) {
    if node.degree() == 0 {
        return;
    }
    let mut work = Vec::new();
    node.drain_children(&mut work);
    while let Some(mut next) = work.pop() {
        next.drain_children(&mut work);
    }
}

/// How many pending branches a walk keeps on the thread's stack before using the heap.
const INLINE: usize = 16;

/// A LIFO of pending branches that lives on the stack until it outgrows it, so a walk over a
/// tree with few wildcard branches allocates nothing, and a pathological one still cannot
/// overflow the thread's stack.
pub(super) struct WorkStack<T: Copy> {
    inline: [Option<T>; INLINE],
    len: usize,
    spill: Vec<T>,
}

impl<T: Copy> WorkStack<T> {
    pub(super) fn new() -> Self {
        WorkStack {
            inline: [None; INLINE],
            len: 0,
            spill: Vec::new(),
        }
    }

    pub(super) fn push(&mut self, item: T) {
        if self.len < INLINE {
            self.inline[self.len] = Some(item);
            self.len += 1;
        } else {
            self.spill.push(item);
        }
    }

    pub(super) fn pop(&mut self) -> Option<T> {
        // The spill only grows once the inline part is full, so it holds the newest items.
        if let Some(item) = self.spill.pop() {
            return Some(item);
        }
        if self.len == 0 {
            return None;
        }
        self.len -= 1;
        self.inline[self.len].take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_are_split_without_normalisation() {
        assert_eq!(next_level("a/b/c"), ("a", Some("b/c")));
        assert_eq!(next_level("a/"), ("a", Some("")));
        assert_eq!(next_level(""), ("", None));
        assert_eq!(next_level("/"), ("", Some("")));
        assert_eq!(levels(None).count(), 0);
        assert_eq!(levels(Some("")).collect::<Vec<_>>(), [""]);
        assert_eq!(levels(Some("a//b")).collect::<Vec<_>>(), ["a", "", "b"]);
    }

    #[test]
    fn the_work_stack_is_last_in_first_out_across_the_spill() {
        let mut stack = WorkStack::new();
        for i in 0..40 {
            stack.push(i);
        }
        for i in (30..40).rev() {
            assert_eq!(stack.pop(), Some(i));
        }
        stack.push(100);
        assert_eq!(stack.pop(), Some(100));
        for i in (0..30).rev() {
            assert_eq!(stack.pop(), Some(i));
        }
        assert_eq!(stack.pop(), None);
    }
}
