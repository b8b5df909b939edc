//! Splitting a manifest between the tasks of an array job: shard `i` of `n` takes rows
//! `i, i + n, i + 2n, …` (0-based), so the shards are disjoint, their union is the manifest,
//! and their sizes differ by at most one row. The index comes from `--shard i/n` or from the
//! array engine's environment.

/// Shard `index` of `count` (0 <= index < count).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// Environment variables the count may come from when the engine does not give it
/// (Kubernetes and AWS Batch give only the index).
pub const COUNT_VARIABLE: &str = "LATHE_SHARD_COUNT";

impl Shard {
    pub fn new(index: usize, count: usize) -> Result<Self, String> {
        if count == 0 {
            return Err("a shard count is 1 or more".into());
        }
        if index >= count {
            return Err(format!(
                "shard {index} of {count} does not exist (0 to {})",
                count - 1
            ));
        }
        Ok(Self { index, count })
    }

    /// `i/n`, as `--shard` takes it.
    pub fn parse(text: &str) -> Result<Self, String> {
        let (i, n) = text
            .split_once('/')
            .ok_or_else(|| format!("`{text}` is not i/n, e.g. 0/4"))?;
        let number = |s: &str| {
            s.trim()
                .parse::<usize>()
                .map_err(|_| format!("`{text}`: `{s}` is not a whole number"))
        };
        Self::new(number(i)?, number(n)?)
    }

    /// Whether the row at `position` (0-based, in manifest order) is this shard's.
    pub fn takes(&self, position: usize) -> bool {
        position % self.count == self.index
    }

    /// This shard's items, in order.
    pub fn select<T>(&self, items: Vec<T>) -> Vec<T> {
        items
            .into_iter()
            .enumerate()
            .filter(|(i, _)| self.takes(*i))
            .map(|(_, t)| t)
            .collect()
    }

    /// The shard an array task is, read through `var` (`std::env::var` in use):
    /// - Slurm: `SLURM_ARRAY_TASK_ID` and `SLURM_ARRAY_TASK_COUNT`, less
    ///   `SLURM_ARRAY_TASK_MIN` so `--array=1-4` works as `0-3` does;
    /// - Kubernetes Indexed Jobs: `JOB_COMPLETION_INDEX`;
    /// - AWS Batch array jobs: `AWS_BATCH_JOB_ARRAY_INDEX`.
    ///
    /// The count is `count` when given (`--shards n`), else `LATHE_SHARD_COUNT`, else
    /// Slurm's. `Ok(None)` when no engine's index is set: the whole manifest.
    pub fn from_env(
        var: impl Fn(&str) -> Option<String>,
        count: Option<usize>,
    ) -> Result<Option<Self>, String> {
        let number = |name: &str| -> Result<Option<usize>, String> {
            match var(name) {
                None => Ok(None),
                Some(v) => v
                    .trim()
                    .parse()
                    .map(Some)
                    .map_err(|_| format!("{name}={v} is not a whole number")),
            }
        };
        let (index, engine) = if let Some(id) = number("SLURM_ARRAY_TASK_ID")? {
            let min = number("SLURM_ARRAY_TASK_MIN")?.unwrap_or(0);
            let index = id.checked_sub(min).ok_or_else(|| {
                format!("SLURM_ARRAY_TASK_ID={id} is below SLURM_ARRAY_TASK_MIN={min}")
            })?;
            (index, "SLURM_ARRAY_TASK_ID")
        } else if let Some(i) = number("JOB_COMPLETION_INDEX")? {
            (i, "JOB_COMPLETION_INDEX")
        } else if let Some(i) = number("AWS_BATCH_JOB_ARRAY_INDEX")? {
            (i, "AWS_BATCH_JOB_ARRAY_INDEX")
        } else {
            return Ok(None);
        };
        let count = match count {
            Some(n) => n,
            None => number(COUNT_VARIABLE)?
                .or(number("SLURM_ARRAY_TASK_COUNT")?)
                .ok_or_else(|| {
                    format!(
                        "{engine} gives this task's index but not how many tasks there are; \
                         pass --shards <n> or set {COUNT_VARIABLE}"
                    )
                })?,
        };
        Self::new(index, count)
            .map(Some)
            .map_err(|e| format!("{engine}: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn shards_are_disjoint_and_their_union_is_the_manifest() {
        for count in 1..=7 {
            for len in 0..=20 {
                let mut seen = vec![0; len];
                for index in 0..count {
                    let shard = Shard::new(index, count).unwrap();
                    let rows = shard.select((0..len).collect());
                    assert!(rows.len().abs_diff(len / count) <= 1);
                    for r in rows {
                        seen[r] += 1;
                    }
                }
                assert!(seen.iter().all(|&n| n == 1), "{count} {len}: {seen:?}");
            }
        }
        assert_eq!(
            Shard::parse("1/2").unwrap().select(vec![0, 1, 2, 3, 4]),
            [1, 3]
        );
    }

    #[test]
    fn malformed_shards_are_refused() {
        assert!(Shard::parse("2/2").unwrap_err().contains("does not exist"));
        assert!(Shard::parse("0/0").is_err());
        assert!(Shard::parse("a/2").unwrap_err().contains("whole number"));
        assert!(Shard::parse("3").unwrap_err().contains("i/n"));
    }

    #[test]
    fn slurm_gives_index_and_count() {
        let e = [
            ("SLURM_ARRAY_TASK_ID", "2"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
        ];
        assert_eq!(
            Shard::from_env(env(&e), None),
            Ok(Some(Shard::new(2, 4).unwrap()))
        );
        // --array=1-4 counts from 1.
        let e = [
            ("SLURM_ARRAY_TASK_ID", "4"),
            ("SLURM_ARRAY_TASK_MIN", "1"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
        ];
        assert_eq!(
            Shard::from_env(env(&e), None),
            Ok(Some(Shard::new(3, 4).unwrap()))
        );
        let e = [
            ("SLURM_ARRAY_TASK_ID", "x"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
        ];
        assert!(Shard::from_env(env(&e), None)
            .unwrap_err()
            .contains("SLURM_ARRAY_TASK_ID=x"));
        let e = [
            ("SLURM_ARRAY_TASK_ID", "4"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
        ];
        assert!(Shard::from_env(env(&e), None)
            .unwrap_err()
            .contains("does not exist"));
    }

    #[test]
    fn kubernetes_and_aws_batch_need_the_count_given() {
        let e = [("JOB_COMPLETION_INDEX", "1")];
        assert!(Shard::from_env(env(&e), None)
            .unwrap_err()
            .contains("--shards"));
        assert_eq!(
            Shard::from_env(env(&e), Some(3)),
            Ok(Some(Shard::new(1, 3).unwrap()))
        );
        let e = [("AWS_BATCH_JOB_ARRAY_INDEX", "0"), (COUNT_VARIABLE, "2")];
        assert_eq!(
            Shard::from_env(env(&e), None),
            Ok(Some(Shard::new(0, 2).unwrap()))
        );
        let e = [("AWS_BATCH_JOB_ARRAY_INDEX", "-1"), (COUNT_VARIABLE, "2")];
        assert!(Shard::from_env(env(&e), None).is_err());
        assert_eq!(Shard::from_env(env(&[]), None), Ok(None));
    }
}
