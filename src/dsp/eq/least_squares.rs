//! Least squares with box constraints: minimise `|J·x - r|²` (given as its normal equations
//! `A = JᵀJ`, `b = Jᵀr`, `A` symmetric positive definite) subject to `lo ≤ x ≤ hi`.
//!
//! Why not solve and clamp: the match sections overlap, so an unconstrained fit of a jagged
//! curve gives neighbouring sections large opposite gains (-12 dB beside +10 dB) whose sum is
//! smooth; clamping them afterwards breaks that sum. A constrained fit keeps every section
//! inside its own limit and lets the others take up what it cannot.
//!
//! The method is the active-set method of C. L. Lawson and R. J. Hanson, *Solving Least
//! Squares Problems* (Prentice-Hall, 1974), ch. 23 (NNLS), in its bounded-variable form
//! (P. B. Stark and R. L. Parker, "Bounded-variable least squares: an algorithm and
//! applications", Computational Statistics 10, 1995): keep a set of variables fixed at a
//! bound, solve the unconstrained problem in the others, step back to the first bound the
//! step crosses, and free a fixed variable whose Lagrange multiplier says the objective
//! falls when it leaves its bound. For a convex problem it ends at the exact optimum in
//! finitely many steps.
//!
//! Not real-time code: it allocates its working matrices, and runs where the fit runs, once
//! per reference, outside `process` (the renderer, or the plugin's loader thread).

/// Steps at most; each frees or fixes one variable, so a few times `n` is plenty.
const MAX_STEPS_PER_VAR: usize = 8;

/// The `x` minimising `½xᵀAx - bᵀx` with `lo ≤ x ≤ hi` (`a` is `n × n`, row-major as rows).
/// Bounds with `lo > hi` are taken as the point `lo`. Returns `None` when a free subsystem
/// is singular.
pub fn solve_bounded(a: &[Vec<f64>], b: &[f64], lo: &[f64], hi: &[f64]) -> Option<Vec<f64>> {
    let n = b.len();
    let hi: Vec<f64> = hi.iter().zip(lo).map(|(&h, &l)| h.max(l)).collect();
    // Start at the point of the box nearest 0, variables at a bound fixed there.
    let mut x: Vec<f64> = (0..n).map(|i| 0.0f64.clamp(lo[i], hi[i])).collect();
    let mut fixed: Vec<bool> = (0..n).map(|i| x[i] == lo[i] || x[i] == hi[i]).collect();
    for _ in 0..MAX_STEPS_PER_VAR * n.max(1) {
        // The unconstrained optimum over the free variables, the fixed ones where they are.
        let free: Vec<usize> = (0..n).filter(|&i| !fixed[i]).collect();
        let z = if free.is_empty() {
            Vec::new()
        } else {
            let sub_a: Vec<Vec<f64>> = free
                .iter()
                .map(|&i| free.iter().map(|&k| a[i][k]).collect())
                .collect();
            let sub_b: Vec<f64> = free
                .iter()
                .map(|&i| {
                    b[i] - (0..n)
                        .filter(|&k| fixed[k])
                        .map(|k| a[i][k] * x[k])
                        .sum::<f64>()
                })
                .collect();
            solve(sub_a, sub_b)?
        };
        // The largest step toward it that stays in the box.
        let mut t = 1.0f64;
        let mut blocking = None;
        for (j, &i) in free.iter().enumerate() {
            let d = z[j] - x[i];
            let room = if d > 0.0 {
                hi[i] - x[i]
            } else if d < 0.0 {
                lo[i] - x[i]
            } else {
                continue;
            };
            let s = room / d;
            if s < t {
                t = s.max(0.0);
                blocking = Some(i);
            }
        }
        for (j, &i) in free.iter().enumerate() {
            x[i] = (x[i] + t * (z[j] - x[i])).clamp(lo[i], hi[i]);
        }
        if let Some(i) = blocking {
            fixed[i] = true;
            // Snap exactly onto the bound it reached.
            x[i] = if (x[i] - hi[i]).abs() <= (x[i] - lo[i]).abs() {
                hi[i]
            } else {
                lo[i]
            };
            continue;
        }
        // Optimal on the free set: free the fixed variable whose gradient most wants it in.
        let mut best = (0.0f64, None);
        for i in (0..n).filter(|&i| fixed[i] && lo[i] < hi[i]) {
            let grad: f64 = (0..n).map(|k| a[i][k] * x[k]).sum::<f64>() - b[i];
            // At the lower bound the objective falls going up when grad < 0; at the upper,
            // going down when grad > 0.
            let gain = if x[i] <= lo[i] {
                -grad
            } else if x[i] >= hi[i] {
                grad
            } else {
                grad.abs()
            };
            if gain > best.0 + 1e-12 {
                best = (gain, Some(i));
            }
        }
        match best.1 {
            Some(i) => fixed[i] = false,
            None => return Some(x),
        }
    }
    Some(x)
}

/// Solves `a·x = b` by Gaussian elimination with partial pivoting; `None` when singular.
pub fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Option<Vec<f64>> {
    let n = b.len();
    for col in 0..n {
        let pivot = (col..n).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() < 1e-12 {
            return None;
        }
        a.swap(col, pivot);
        b.swap(col, pivot);
        let (top, bottom) = a.split_at_mut(col + 1);
        let pivot_row = &top[col];
        for (offset, row) in bottom.iter_mut().enumerate() {
            let f = row[col] / pivot_row[col];
            for (x, p) in row[col..].iter_mut().zip(&pivot_row[col..]) {
                *x -= f * p;
            }
            b[col + 1 + offset] -= f * b[col];
        }
    }
    let mut x = vec![0.0; n];
    for row in (0..n).rev() {
        let s: f64 = (row + 1..n).map(|k| a[row][k] * x[k]).sum();
        x[row] = (b[row] - s) / a[row][row];
    }
    Some(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn objective(a: &[Vec<f64>], b: &[f64], x: &[f64]) -> f64 {
        let n = b.len();
        let mut q = 0.0;
        for i in 0..n {
            for k in 0..n {
                q += 0.5 * x[i] * a[i][k] * x[k];
            }
            q -= b[i] * x[i];
        }
        q
    }

    #[test]
    fn a_linear_system_solves() {
        let x = solve(vec![vec![2.0, 1.0], vec![1.0, 3.0]], vec![3.0, 5.0]).unwrap();
        assert!((x[0] - 0.8).abs() < 1e-12 && (x[1] - 1.4).abs() < 1e-12);
    }

    #[test]
    fn loose_bounds_give_the_unconstrained_solution() {
        let a = vec![vec![2.0, 1.0], vec![1.0, 3.0]];
        let x = solve_bounded(&a, &[3.0, 5.0], &[-10.0; 2], &[10.0; 2]).unwrap();
        assert!((x[0] - 0.8).abs() < 1e-12 && (x[1] - 1.4).abs() < 1e-12);
    }

    /// Two nearly equal columns (two overlapping bells) asked for a jagged target: the free
    /// solution pulls them far apart in opposite directions; the bounded one stays inside
    /// the box and is no worse than any point of a fine grid over the box.
    #[test]
    fn the_bounded_optimum_beats_every_point_of_a_grid() {
        let a = vec![
            vec![1.0, 0.95, 0.2],
            vec![0.95, 1.0, 0.5],
            vec![0.2, 0.5, 1.0],
        ];
        let b = vec![3.0, -2.0, 1.0];
        let free = solve(a.clone(), b.clone()).unwrap();
        assert!(free.iter().any(|v| v.abs() > 6.0), "{free:?}");
        let (lo, hi) = ([-6.0, -6.0, -1.0], [6.0, 6.0, 0.0]);
        let x = solve_bounded(&a, &b, &lo, &hi).unwrap();
        for i in 0..3 {
            assert!(x[i] >= lo[i] && x[i] <= hi[i], "{x:?}");
        }
        let best = objective(&a, &b, &x);
        let steps = 40;
        for i in 0..=steps {
            for j in 0..=steps {
                for k in 0..=steps / 4 {
                    let p = [
                        lo[0] + (hi[0] - lo[0]) * i as f64 / steps as f64,
                        lo[1] + (hi[1] - lo[1]) * j as f64 / steps as f64,
                        lo[2] + (hi[2] - lo[2]) * k as f64 / (steps / 4) as f64,
                    ];
                    assert!(objective(&a, &b, &p) >= best - 1e-9, "{p:?} beats {x:?}");
                }
            }
        }
    }
}
