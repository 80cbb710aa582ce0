//! Sums over the rows of a batch: fixed-size chunks combined in a fixed pairwise tree.
//!
//! Contract: NUMERICS.md §5.2. A batch of B rows is cut into chunks of [`BATCH_CHUNK`] rows
//! (the last one may be shorter). Each chunk is summed sequentially, rows ascending, from +0.
//! The chunk partials are then combined level by level, adjacent pairs left to right, an odd
//! last partial carried up unchanged: for 5 chunks `((p0+p1)+(p2+p3))+p4`. The order depends
//! only on B, so any split of the batch into whole chunks — across threads today, devices or
//! processes later — reproduces the same bits.

/// Rows per chunk of a batch reduction. Part of the contract: changing it changes digests.
pub const BATCH_CHUNK: usize = 16;

/// Number of chunks a batch of `rows` rows is cut into.
///
/// Contract: NUMERICS.md §5.2.
pub const fn chunk_count(rows: usize) -> usize {
    rows.div_ceil(BATCH_CHUNK)
}

/// Elements combined per pass, so that the temporaries live on the stack.
const BLOCK: usize = 64;

/// `out[e] ← finish(tree(partials[0][e], …, partials[n-1][e]))` for every `e` in `out`,
/// where partial `c` of element `e` is `partials[c * stride + first + e]` and the tree adds
/// with `add`.
///
/// Contract: NUMERICS.md §5.2 (the tree over chunk partials). `first` lets a caller that
/// splits `out` across threads pass the offset of its block.
///
/// # Panics
/// If `n == 0` or `partials` is too short (caller bugs).
#[inline(always)]
pub fn tree_sum_with<Acc: Copy + Default, Out>(
    out: &mut [Out],
    partials: &[Acc],
    stride: usize,
    first: usize,
    n: usize,
    add: impl Fn(Acc, Acc) -> Acc + Copy,
    finish: impl Fn(Acc) -> Out,
) {
    assert!(n > 0, "tree_sum: no partials");
    assert!(partials.len() >= (n - 1) * stride + first + out.len(), "tree_sum: partials too short");
    if n == 1 {
        // A tree of one leaf is the leaf.
        for (o, p) in out.iter_mut().zip(&partials[first..]) {
            *o = finish(*p);
        }
        return;
    }
    let mut offset = 0;
    for block in out.chunks_mut(BLOCK) {
        let mut sums = [Acc::default(); BLOCK];
        let sums = &mut sums[..block.len()];
        tree(sums, partials, stride, first + offset, 0, n, add);
        for (o, s) in block.iter_mut().zip(sums.iter()) {
            *o = finish(*s);
        }
        offset += block.len();
    }
}

/// The tree of `n` partials, in place: for every `e < len`, `partials[e] ← tree(partials[0·stride
/// + e], …, partials[(n−1)·stride + e])` (the other partials are left as they were, or clobbered).
///
/// Contract: NUMERICS.md §5.2. With `n` a power of two this is the subtree of the batch tree
/// over those `n` chunks (aligned blocks of a power of two chunks are the tree's nodes), so a
/// caller can reduce each aligned group where it was computed and combine the group results
/// with [`tree_sum_with`] over the groups: the same additions in the same order.
///
/// # Panics
/// If `n == 0` or `partials` is too short.
#[inline(always)]
pub fn tree_sum_in_place<Acc: Copy + Default>(
    partials: &mut [Acc],
    stride: usize,
    len: usize,
    n: usize,
    add: impl Fn(Acc, Acc) -> Acc + Copy,
) {
    assert!(n > 0, "tree_sum: no partials");
    assert!(partials.len() >= (n - 1) * stride + len, "tree_sum: partials too short");
    if n == 1 {
        return;
    }
    if n == 2 {
        // One pair: each element's two partials read, then the first overwritten.
        let (left, right) = partials.split_at_mut(stride);
        for (l, r) in left[..len].iter_mut().zip(&right[..len]) {
            *l = add(*l, *r);
        }
        return;
    }
    let mut offset = 0;
    while offset < len {
        let width = BLOCK.min(len - offset);
        let mut sums = [Acc::default(); BLOCK];
        // Every input of these elements is read before any of them is overwritten.
        tree(&mut sums[..width], partials, stride, offset, 0, n, add);
        partials[offset..offset + width].copy_from_slice(&sums[..width]);
        offset += width;
    }
}

/// [`tree_sum_with`] for f32 partials, f32 addition.
///
/// Contract: NUMERICS.md §5.2.
pub fn tree_sum_into(out: &mut [f32], partials: &[f32], stride: usize, first: usize, n: usize) {
    tree_sum_with(out, partials, stride, first, n, |a, b| a + b, |s| s);
}

/// Pairwise levels with carry are the same tree as splitting `[lo, hi)` at the largest power
/// of two strictly below its length, left part first: `p0..p3 | p4` for five partials.
fn tree<Acc: Copy + Default>(
    dst: &mut [Acc],
    partials: &[Acc],
    stride: usize,
    first: usize,
    lo: usize,
    hi: usize,
    add: impl Fn(Acc, Acc) -> Acc + Copy,
) {
    let len = hi - lo;
    if len == 1 {
        dst.copy_from_slice(&partials[lo * stride + first..][..dst.len()]);
        return;
    }
    if len == 2 {
        // The tree's leaves, added straight from the partials (the same additions as copying
        // both and adding, without the copies).
        let left = &partials[lo * stride + first..][..dst.len()];
        let right = &partials[(lo + 1) * stride + first..][..dst.len()];
        for ((d, l), r) in dst.iter_mut().zip(left).zip(right) {
            *d = add(*l, *r);
        }
        return;
    }
    let left = 1usize << (usize::BITS - 1 - (len - 1).leading_zeros());
    tree(dst, partials, stride, first, lo, lo + left, add);
    let mut right = [Acc::default(); BLOCK];
    let right = &mut right[..dst.len()];
    tree(right, partials, stride, first, lo + left, hi, add);
    for (d, r) in dst.iter_mut().zip(right.iter()) {
        *d = add(*d, *r);
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec;

    /// Level-by-level pairing with carry, exactly as NUMERICS.md §5.2 words it.
    fn levels(mut p: Vec<f32>) -> f32 {
        while p.len() > 1 {
            p = p.chunks(2).map(|c| if c.len() == 2 { c[0] + c[1] } else { c[0] }).collect();
        }
        p[0]
    }

    #[test]
    fn chunk_counts() {
        assert_eq!(chunk_count(0), 0);
        assert_eq!(chunk_count(1), 1);
        assert_eq!(chunk_count(16), 1);
        assert_eq!(chunk_count(17), 2);
        assert_eq!(chunk_count(256), 16);
    }

    #[test]
    fn recursive_split_equals_pairwise_levels_bitwise() {
        for n in 1..=40usize {
            // Terms of wildly different size make every grouping round differently.
            let p: Vec<f32> =
                (0..n).map(|i| if i % 3 == 0 { 1.0e7 + i as f32 } else { 0.37 * i as f32 - 3.1 }).collect();
            let mut out = [0.0f32];
            tree_sum_into(&mut out, &p, 1, 0, n);
            assert_eq!(out[0].to_bits(), levels(p.clone()).to_bits(), "n = {n}");
        }
    }

    #[test]
    fn five_partials_group_as_documented() {
        let p = [1.0e8f32, 1.0, -1.0e8, 1.0, 0.5];
        let mut out = [0.0f32];
        tree_sum_into(&mut out, &p, 1, 0, 5);
        assert_eq!(out[0], ((p[0] + p[1]) + (p[2] + p[3])) + p[4]);
    }

    #[test]
    fn aligned_groups_reduced_in_place_then_combined_equal_the_whole_tree() {
        for n in [2usize, 4, 6, 8, 12, 14, 16] {
            let width = 70;
            let partials: Vec<f32> =
                (0..n * width).map(|i| if i % 5 == 0 { 3.0e6 + i as f32 } else { 0.013 * i as f32 - 1.7 }).collect();
            let mut whole = std::vec![0.0; width];
            tree_sum_into(&mut whole, &partials, width, 0, n);
            let mut group = 1;
            while n % group == 0 {
                let mut p = partials.clone();
                for g in 0..n / group {
                    tree_sum_in_place(&mut p[g * group * width..], width, width, group, |a, b| a + b);
                }
                let mut combined = std::vec![0.0; width];
                tree_sum_into(&mut combined, &p, group * width, 0, n / group);
                let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&combined), bits(&whole), "n {n}, groups of {group}");
                group *= 2;
            }
        }
    }

    #[test]
    fn blocks_and_offsets_do_not_change_results() {
        let (n, width) = (7, 150);
        let partials: Vec<f32> = (0..n * width).map(|i| ((i * 7919) % 1000) as f32 * 0.001 - 0.4).collect();
        let mut whole = std::vec![0.0; width];
        tree_sum_into(&mut whole, &partials, width, 0, n);
        for split in [1, 13, 64, 65, 149] {
            let mut parts = std::vec![0.0; width];
            let (a, b) = parts.split_at_mut(split);
            tree_sum_into(a, &partials, width, 0, n);
            tree_sum_into(b, &partials, width, split, n);
            assert_eq!(parts, whole, "split at {split}");
        }
    }
}
