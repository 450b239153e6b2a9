//! Per-connection publish limits (`limits.max_publish_rate`, `limits.max_publish_bandwidth`):
//! token buckets on the time the engine is given, so that they work the same in tests.
//!
//! Each bucket holds at most one second's worth of its limit and refills continuously at the
//! limit's rate. A PUBLISH is let through while its bucket is not empty and takes its cost
//! from it, even if that leaves the bucket in debt (so a single message larger than a
//! second's bandwidth still passes when the bucket is full); a PUBLISH that finds a bucket
//! empty or in debt exceeds the limit. Over any stretch of time a client therefore publishes
//! at most the limit on average, plus a burst of one second's worth.

use std::time::Instant;

/// A token bucket with a capacity of one second at `rate` per second.
#[derive(Clone, Copy, Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Bucket {
    fn full(rate: f64, now: Instant) -> Bucket {
        Bucket {
            tokens: rate,
            at: now,
        }
    }

    /// Takes `cost` if the bucket is not empty; false (taking nothing) if it is empty or in
    /// debt.
    fn take(&mut self, rate: f64, cost: f64, now: Instant) -> bool {
        if now > self.at {
            let elapsed = (now - self.at).as_secs_f64();
            self.tokens = (self.tokens + elapsed * rate).min(rate);
            self.at = now;
        }
        if self.tokens <= 0.0 {
            return false;
        }
        self.tokens -= cost;
        true
    }
}

/// Which limit a PUBLISH went over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exceeded {
    /// `limits.max_publish_rate`, messages per second.
    Rate(u32),
    /// `limits.max_publish_bandwidth`, bytes per second.
    Bandwidth(u64),
}

/// The buckets of one connection, made full when its first PUBLISH arrives. Without limits
/// (the default) it holds nothing but an empty pointer.
#[derive(Clone, Debug, Default)]
pub struct PublishLimiter {
    buckets: Option<Box<Buckets>>,
}

#[derive(Clone, Copy, Debug, Default)]
struct Buckets {
    messages: Option<Bucket>,
    bytes: Option<Bucket>,
}

impl PublishLimiter {
    /// Counts a PUBLISH of `size` bytes against the limits (0 is unlimited). Both buckets are
    /// charged only when the PUBLISH passes both.
    pub fn check(
        &mut self,
        max_rate: u32,
        max_bandwidth: u64,
        size: usize,
        now: Instant,
    ) -> Result<(), Exceeded> {
        if max_rate == 0 && max_bandwidth == 0 {
            return Ok(());
        }
        let stored = self.buckets.get_or_insert_with(Default::default);
        let Buckets {
            mut messages,
            mut bytes,
        } = **stored;
        if max_rate > 0 {
            let rate = f64::from(max_rate);
            let bucket = messages.get_or_insert_with(|| Bucket::full(rate, now));
            if !bucket.take(rate, 1.0, now) {
                return Err(Exceeded::Rate(max_rate));
            }
        }
        if max_bandwidth > 0 {
            let rate = max_bandwidth as f64;
            let bucket = bytes.get_or_insert_with(|| Bucket::full(rate, now));
            if !bucket.take(rate, size as f64, now) {
                return Err(Exceeded::Bandwidth(max_bandwidth));
            }
        }
        **stored = Buckets { messages, bytes };
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn rate_allows_a_burst_then_the_rate() {
        let t0 = Instant::now();
        let mut l = PublishLimiter::default();
        for _ in 0..10 {
            assert_eq!(l.check(10, 0, 100, t0), Ok(()));
        }
        assert_eq!(l.check(10, 0, 100, t0), Err(Exceeded::Rate(10)));
        // A tenth of a second gives one more message, and no more.
        let t1 = t0 + Duration::from_millis(100);
        assert_eq!(l.check(10, 0, 100, t1), Ok(()));
        assert_eq!(l.check(10, 0, 100, t1), Err(Exceeded::Rate(10)));
        // A long pause refills the bucket, but only to one second's worth.
        let t2 = t1 + Duration::from_secs(60);
        for _ in 0..10 {
            assert_eq!(l.check(10, 0, 100, t2), Ok(()));
        }
        assert!(l.check(10, 0, 100, t2).is_err());
    }

    #[test]
    fn steady_publishing_at_the_rate_passes() {
        let t0 = Instant::now();
        let mut l = PublishLimiter::default();
        for i in 0..1000 {
            let now = t0 + Duration::from_millis(100 * i);
            assert_eq!(l.check(10, 0, 10, now), Ok(()), "message {i}");
        }
    }

    #[test]
    fn bandwidth_goes_into_debt_once() {
        let t0 = Instant::now();
        let mut l = PublishLimiter::default();
        // Larger than a second's worth, but the bucket is full: it passes.
        assert_eq!(l.check(0, 1000, 2500, t0), Ok(()));
        // The debt (1500 bytes) takes 1.5 s to pay back.
        let t1 = t0 + Duration::from_millis(1400);
        assert_eq!(l.check(0, 1000, 1, t1), Err(Exceeded::Bandwidth(1000)));
        let t2 = t0 + Duration::from_millis(1600);
        assert_eq!(l.check(0, 1000, 1, t2), Ok(()));
    }

    #[test]
    fn unlimited_is_unlimited_and_a_refusal_charges_nothing() {
        let t0 = Instant::now();
        let mut l = PublishLimiter::default();
        for _ in 0..10_000 {
            assert_eq!(l.check(0, 0, 1 << 20, t0), Ok(()));
        }
        let mut l = PublishLimiter::default();
        assert_eq!(l.check(1, 100, 10, t0), Ok(()));
        // The message bucket is empty: refused, and the byte bucket keeps its 90 bytes.
        assert_eq!(l.check(1, 100, 10, t0), Err(Exceeded::Rate(1)));
        assert_eq!(l.check(0, 100, 90, t0), Ok(()));
        assert_eq!(l.check(0, 100, 1, t0), Err(Exceeded::Bandwidth(100)));
    }
}
