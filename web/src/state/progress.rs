//! How far a running operation got, in records, in bytes when a restore writes a file of known
//! size, and the time left, estimated from the pace of the current step. The time comes with
//! each [`Action::Progress`](super::Action::Progress): the reducer never reads a clock.

use super::{Command, PageState, RunningOperation};

/// The pace of the step an operation is in: one sweep over records (a restore writes the
/// backup beside the app's data, then swaps, holding what it replaces as its automatic backup
/// without a sweep of its own; a migration backs the database up first). A count that starts
/// again starts the pace again.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Pace {
    /// 0 for the first sweep, then one more whenever the count starts again.
    pub step: u32,
    /// When the step was first heard of (milliseconds since the epoch), and how far it was.
    pub since: Option<(f64, u64)>,
    /// When progress was last reported.
    pub at: f64,
}

/// What the records being counted are for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The automatic backup of the database as it is now, before it changes.
    AutomaticBackup,
    /// A restore writing the backup.
    Writing,
    /// A backup reading the database.
    Reading,
}

/// No estimate before this much time or this share of the step: the first batches say little.
const SETTLE_MS: f64 = 1000.0;
const SETTLE_SHARE: f64 = 0.03;

impl RunningOperation {
    /// The step the reported records belong to.
    pub fn step(&self) -> Step {
        match &self.command {
            Command::RestoreBackup(_)
            | Command::RestoreSealedBackup { .. }
            | Command::RestoreFile { .. } => Step::Writing,
            Command::CreateBackup { .. } => Step::Reading,
            _ => Step::AutomaticBackup,
        }
    }

    /// Milliseconds left in this step at its pace so far; `None` until it has settled, and
    /// never negative, infinite or NaN.
    pub fn ms_left(&self) -> Option<f64> {
        let (since, from) = self.pace.since?;
        let elapsed = self.pace.at - since;
        let advanced = self.done.checked_sub(from).filter(|&a| a > 0)?;
        if self.total == 0 || self.done > self.total || elapsed.is_nan() || elapsed <= 0.0 {
            return None;
        }
        if elapsed < SETTLE_MS && (advanced as f64) < SETTLE_SHARE * self.total as f64 {
            return None;
        }
        let left = (self.total - self.done) as f64 * elapsed / advanced as f64;
        (left.is_finite() && left >= 0.0).then_some(left)
    }

    /// Bytes of the backup written so far and in all, estimated from the records: only while
    /// a restore writes a file of known size.
    pub fn bytes(&self) -> Option<(u64, u64)> {
        let bytes = self.file_bytes?;
        if self.step() != Step::Writing || self.total == 0 {
            return None;
        }
        let done =
            u128::from(bytes) * u128::from(self.done.min(self.total)) / u128::from(self.total);
        Some((done as u64, bytes))
    }
}

impl PageState {
    /// A count that starts again (lower, or of another total) is the next step.
    pub(super) fn progress(&mut self, done: u64, total: u64, at: f64) {
        let Some(op) = &mut self.operation else {
            return;
        };
        if op.total != 0 && (total != op.total || done < op.done) {
            op.pace.step += 1;
            op.pace.since = None;
        }
        if op.pace.since.is_none() {
            op.pace.since = Some((at, done));
        }
        op.pace.at = at;
        op.done = done;
        op.total = total;
    }
}

#[cfg(test)]
mod tests {
    use super::Step;
    use crate::state::fixtures::*;
    use crate::state::{Action, Command, PageState};

    fn restoring(automatic_backup: bool) -> PageState {
        let state = ready()
            .apply(Action::OpenRestoreBackup("b1".into()))
            .apply(Action::KeptLoaded {
                id: "b1".into(),
                kept: Ok(vec![]),
            })
            .apply(Action::SetWithoutBackup(!automatic_backup))
            .apply(Action::SetUnderstood(true))
            .apply(Action::Confirm);
        assert!(state.operation.is_some());
        state
    }

    fn at(done: u64, total: u64, at: f64) -> Action {
        Action::Progress { done, total, at }
    }

    #[test]
    fn a_restore_counts_the_records_it_writes_with_their_bytes() {
        let state = restoring(true).apply(at(1000, 4000, 1_000.0));
        let op = state.operation.as_ref().unwrap();
        assert_eq!(op.step(), Step::Writing);
        assert_eq!(op.file_bytes, Some(10), "the file's size, from the dialog");
        assert_eq!(op.bytes(), Some((2, 10)));
        let state = state.apply(at(4000, 4000, 2_000.0));
        assert_eq!(state.operation.as_ref().unwrap().bytes(), Some((10, 10)));
        // Its automatic backup is held in place by the swap: no sweep of its own, so a count
        // that starts again is still the writing (its pace starts again).
        let state = state.apply(at(500, 2000, 3_000.0));
        let op = state.operation.as_ref().unwrap();
        assert_eq!((op.step(), op.pace.step), (Step::Writing, 1));
        let state = restoring(false).apply(at(1, 4, 1.0));
        assert_eq!(state.operation.unwrap().step(), Step::Writing);
        let backup = ready().apply(Action::Run(Command::CreateBackup {
            label: String::new(),
            skip_unsupported: false,
        }));
        let op = backup.apply(at(1, 4, 1.0)).operation.unwrap();
        assert_eq!(op.step(), Step::Reading);
        assert_eq!(op.bytes(), None);
        let rollback = ready().apply(Action::Run(Command::Rollback(1)));
        assert_eq!(
            rollback.operation.unwrap().step(),
            Step::AutomaticBackup,
            "a rollback counts only its automatic backup"
        );
    }

    #[test]
    fn the_time_left_shows_once_the_step_has_settled_and_is_never_nonsense() {
        let state = restoring(false).apply(at(1000, 100_000, 10_000.0));
        let left = |s: &PageState| s.operation.as_ref().unwrap().ms_left();
        assert_eq!(left(&state), None, "one report says nothing of the pace");
        // 1% in half a second: not yet.
        let state = state.apply(at(2000, 100_000, 10_500.0));
        assert_eq!(left(&state), None);
        // A second has passed: 3,000 records in 1 s, 96,000 left.
        let state = state.apply(at(4000, 100_000, 11_000.0));
        assert_eq!(left(&state), Some(32_000.0));
        // Or a few percent, however quickly.
        let quick = restoring(false)
            .apply(at(0, 1000, 0.0))
            .apply(at(50, 1000, 100.0));
        assert_eq!(left(&quick), Some(1900.0));
        // Done: nothing left.
        let done = quick.apply(at(1000, 1000, 900.0));
        assert_eq!(left(&done), Some(0.0));
        // A clock that went back, no time at all, or no total: no estimate.
        for (a, b) in [(5_000.0, 4_000.0), (5_000.0, 5_000.0)] {
            let s = restoring(false)
                .apply(at(0, 1000, a))
                .apply(at(500, 1000, b));
            assert_eq!(left(&s), None, "{a} → {b}");
        }
        let none = restoring(false)
            .apply(at(0, 0, 0.0))
            .apply(at(0, 0, 5_000.0));
        assert_eq!(left(&none), None);
        // A new step starts its own pace.
        let next = restoring(true)
            .apply(at(0, 1000, 0.0))
            .apply(at(1000, 1000, 2_000.0))
            .apply(at(100, 1000, 2_100.0));
        assert_eq!(left(&next), None);
    }

    #[test]
    fn progress_without_an_operation_changes_nothing() {
        assert_eq!(ready().apply(at(1, 2, 3.0)), ready());
    }
}
