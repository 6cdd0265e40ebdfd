//! Small-count suppression, so that no child is singled out by a count:
//! every count from 1 to 9 is hidden (primary suppression), and then, in
//! every line of a table that adds up (the cells of a row and its total,
//! the cells of a column and the total row), a line with exactly one
//! hidden cell has a second one hidden as well, the smallest other
//! non-zero count of the line (complementary suppression), until no line
//! has a lone hidden cell: a hidden count can then not be worked out from
//! the total and the counts shown beside it.
//!
//! Zeros stay shown: "none" singles no one out, and hiding a 0 as `<10`
//! would be untrue.

/// Below this, a count from 1 up is hidden.
pub const THRESHOLD: i64 = 10;

/// Why a cell is hidden.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hidden {
    /// A count from 1 to 9: shown as `<10`.
    Small,
    /// A larger count hidden so a small one cannot be worked out: `*`.
    Complementary,
}

/// A grid of counts: `cells[r][c]`; which lines add up is said by `lines`,
/// each a list of (row, column) positions whose cells sum to the line's
/// total, the total being one of the positions (any of them: a hidden
/// cell is as findable from any one unknown).
#[derive(Clone, Debug)]
pub struct Grid {
    pub cells: Vec<Vec<i64>>,
    pub lines: Vec<Vec<(usize, usize)>>,
}

impl Grid {
    /// Which cells to hide, by position: `None` shown.
    pub fn suppress(&self) -> Vec<Vec<Option<Hidden>>> {
        let mut hidden: Vec<Vec<Option<Hidden>>> = self
            .cells
            .iter()
            .map(|row| {
                row.iter()
                    .map(|&n| (n > 0 && n < THRESHOLD).then_some(Hidden::Small))
                    .collect()
            })
            .collect();
        // Each pass hides at least one more cell or ends: it ends.
        loop {
            let mut changed = false;
            for line in &self.lines {
                let count = line
                    .iter()
                    .filter(|&&(r, c)| hidden[r][c].is_some())
                    .count();
                if count != 1 {
                    continue;
                }
                let pick = line
                    .iter()
                    .filter(|&&(r, c)| hidden[r][c].is_none() && self.cells[r][c] > 0)
                    .min_by_key(|&&(r, c)| (self.cells[r][c], r, c));
                if let Some(&(r, c)) = pick {
                    hidden[r][c] = Some(Hidden::Complementary);
                    changed = true;
                }
                // No non-zero cell left to hide: every other cell is 0, so
                // the total equals the hidden count and is hidden with it.
            }
            if !changed {
                return hidden;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A one-column table with its total as the last row.
    fn column(counts: &[i64]) -> Grid {
        let total: i64 = counts.iter().sum();
        let mut cells: Vec<Vec<i64>> = counts.iter().map(|&n| vec![n]).collect();
        cells.push(vec![total]);
        let line = (0..cells.len()).map(|r| (r, 0)).collect();
        Grid {
            cells,
            lines: vec![line],
        }
    }

    fn shown(g: &Grid) -> Vec<Option<i64>> {
        let h = g.suppress();
        g.cells
            .iter()
            .zip(h)
            .flat_map(|(row, h)| {
                row.iter()
                    .zip(h)
                    .map(|(&n, h)| h.is_none().then_some(n))
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    #[test]
    fn a_lone_small_count_takes_the_next_smallest_with_it() {
        let g = column(&[3, 40, 12, 0]);
        assert_eq!(shown(&g), [None, Some(40), None, Some(0), Some(55)]);
        let h = g.suppress();
        assert_eq!(h[0][0], Some(Hidden::Small));
        assert_eq!(h[2][0], Some(Hidden::Complementary));
    }

    #[test]
    fn two_small_counts_hide_each_other_and_a_small_total_hides_itself() {
        assert_eq!(
            shown(&column(&[3, 40, 4])),
            [None, Some(40), None, Some(47)]
        );
        assert_eq!(shown(&column(&[3, 0, 0])), [None, Some(0), Some(0), None]);
        assert_eq!(
            shown(&column(&[0, 10, 25])),
            [Some(0), Some(10), Some(25), Some(35)]
        );
    }

    #[test]
    fn rows_and_columns_are_kept_alike() {
        // 2 x 2 with row totals (last column) and a total row (last row).
        let cells = vec![vec![5, 20, 25], vec![30, 40, 70], vec![35, 60, 95]];
        let mut lines = Vec::new();
        for r in 0..3 {
            lines.push((0..3).map(|c| (r, c)).collect());
        }
        for c in 0..3 {
            lines.push((0..3).map(|r| (r, c)).collect());
        }
        let g = Grid { cells, lines };
        let h = g.suppress();
        // No line may have exactly one hidden cell.
        for line in &g.lines {
            let n = line.iter().filter(|&&(r, c)| h[r][c].is_some()).count();
            assert!(n != 1, "{line:?} {h:?}");
        }
        assert_eq!(h[0][0], Some(Hidden::Small));
    }
}
