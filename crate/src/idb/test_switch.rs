//! The tests' switches (feature `test-hooks`): a fault armed to strike at the n-th time a
//! point of the adapter is reached.

/// Counts down to the point where its fault strikes, then disarms itself.
pub struct Countdown(std::cell::Cell<u32>);

impl Countdown {
    pub const fn new() -> Self {
        Countdown(std::cell::Cell::new(0))
    }

    /// Strikes the `n`-th time the point is reached (0: never).
    pub fn arm(&self, n: u32) {
        self.0.set(n);
    }

    /// The point is reached: whether the fault strikes now.
    pub fn reached(&self) -> bool {
        let left = self.0.get();
        self.0.set(left.saturating_sub(1));
        left == 1
    }
}
