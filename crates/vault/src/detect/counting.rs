//! The in-memory counting behind the rules: fixed windows per subject, and each key's
//! reads per minute against its own baseline. Pure bookkeeping on the times the caller
//! passes (the vault's injected clock), so tests can move time.
//!
//! Bounded: subjects are only things that exist (accounts, keys, and addresses already
//! failing against a real account of a tenant), and each map is capped; at the cap the
//! entries whose window has ended are dropped, then, if still full, new subjects are not
//! tracked until room frees up (a flood cannot grow memory, it can only go uncounted).

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};

/// Upper bound on tracked subjects per map.
pub const MAX_SUBJECTS: usize = 100_000;

/// Minutes of history a key needs before its baseline is trusted, by default (the
/// read_rate rule's `window`).
pub const LEARNING_MINUTES: u32 = 30;

/// Weight of the newest minute in the baseline (an exponential moving average over
/// roughly the last hour).
const ALPHA: f64 = 1.0 / 30.0;

#[derive(Clone, Copy, Debug)]
struct Window {
    start: DateTime<Utc>,
    count: u32,
    /// Fired in this window already: one alert per subject and window.
    fired: bool,
}

/// Counts per subject in fixed windows.
#[derive(Default)]
pub struct Windows {
    map: HashMap<String, Window>,
}

impl Windows {
    /// Count one event for `subject` at `now`; true exactly once per window, when the
    /// count first goes above `threshold`.
    pub fn hit(
        &mut self,
        subject: &str,
        now: DateTime<Utc>,
        window: Duration,
        threshold: u32,
    ) -> bool {
        if !self.map.contains_key(subject) && !self.room(now, window) {
            return false;
        }
        let w = self.map.entry(subject.to_owned()).or_insert(Window {
            start: now,
            count: 0,
            fired: false,
        });
        if now >= w.start + window || now < w.start {
            *w = Window {
                start: now,
                count: 0,
                fired: false,
            };
        }
        w.count = w.count.saturating_add(1);
        if w.count > threshold && !w.fired {
            w.fired = true;
            return true;
        }
        false
    }

    fn room(&mut self, now: DateTime<Utc>, window: Duration) -> bool {
        if self.map.len() >= MAX_SUBJECTS {
            self.map.retain(|_, w| now < w.start + window);
        }
        self.map.len() < MAX_SUBJECTS
    }
}

/// One key's reads: the current minute, and the moving average of the minutes before.
#[derive(Clone, Copy, Debug)]
struct Rate {
    minute: i64,
    count: u32,
    baseline: f64,
    minutes: u32,
    fired_minute: Option<i64>,
}

/// What a read-rate check concluded.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum RateVerdict {
    Normal,
    /// Above the absolute ceiling in this minute.
    Ceiling {
        count: u32,
    },
    /// Above `factor` times the key's own baseline (and the floor) in this minute.
    Baseline {
        count: u32,
        baseline: f64,
    },
}

/// The limits of the read-rate rule.
#[derive(Clone, Copy, Debug)]
pub struct RateLimits {
    pub ceiling: u32,
    pub factor: u32,
    pub floor: u32,
    /// Minutes of history before the baseline counts.
    pub learning: u32,
}

#[derive(Default)]
pub struct Rates {
    map: HashMap<String, Rate>,
}

impl Rates {
    /// Count one read by `key` at `now`; a verdict other than `Normal` at most once per
    /// key and minute.
    pub fn read(&mut self, key: &str, now: DateTime<Utc>, limits: RateLimits) -> RateVerdict {
        let minute = now.timestamp().div_euclid(60);
        if !self.map.contains_key(key) {
            if self.map.len() >= MAX_SUBJECTS {
                self.map.retain(|_, r| minute - r.minute < 120);
            }
            if self.map.len() >= MAX_SUBJECTS {
                return RateVerdict::Normal;
            }
            // The key is copied only when it is new: this runs on every secret read.
            self.map.insert(
                key.to_owned(),
                Rate {
                    minute,
                    count: 0,
                    baseline: 0.0,
                    minutes: 0,
                    fired_minute: None,
                },
            );
        }
        let Some(r) = self.map.get_mut(key) else {
            return RateVerdict::Normal;
        };
        if minute > r.minute {
            // Fold the finished minute, then the idle minutes after it, into the baseline.
            let idle = minute - r.minute - 1;
            r.baseline += ALPHA * (f64::from(r.count) - r.baseline);
            r.baseline *= (1.0 - ALPHA).powi(i32::try_from(idle.min(10_000)).unwrap_or(0));
            let folded = u32::try_from((idle + 1).min(1_000_000)).unwrap_or(u32::MAX);
            r.minutes = r.minutes.saturating_add(folded);
            r.minute = minute;
            r.count = 0;
        }
        r.count = r.count.saturating_add(1);
        if r.fired_minute == Some(minute) {
            return RateVerdict::Normal;
        }
        let verdict = if r.count > limits.ceiling {
            RateVerdict::Ceiling { count: r.count }
        } else if r.minutes >= limits.learning
            && r.count > limits.floor
            && f64::from(r.count) > f64::from(limits.factor) * r.baseline
        {
            RateVerdict::Baseline {
                count: r.count,
                baseline: r.baseline,
            }
        } else {
            RateVerdict::Normal
        };
        if verdict != RateVerdict::Normal {
            r.fired_minute = Some(minute);
        }
        verdict
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_040, 0).unwrap()
    }

    #[test]
    fn a_window_fires_once_above_its_threshold_and_starts_over() {
        let mut w = Windows::default();
        let win = Duration::minutes(10);
        for i in 0..3 {
            assert!(!w.hit("a", t0(), win, 3), "hit {i}");
        }
        assert!(w.hit("a", t0(), win, 3), "the fourth goes above 3");
        assert!(!w.hit("a", t0(), win, 3), "once per window");
        assert!(!w.hit("b", t0(), win, 3), "other subjects count apart");
        let later = t0() + win;
        for _ in 0..3 {
            assert!(!w.hit("a", later, win, 3));
        }
        assert!(w.hit("a", later, win, 3));
    }

    #[test]
    fn a_burst_fires_only_after_learning_and_far_above_the_baseline() {
        let limits = RateLimits {
            ceiling: 10_000,
            factor: 10,
            floor: 20,
            learning: LEARNING_MINUTES,
        };
        let mut r = Rates::default();
        // A new key reading hard from its first minute: no baseline yet, nothing fires.
        for _ in 0..500 {
            assert_eq!(r.read("k", t0(), limits), RateVerdict::Normal);
        }
        let mut r = Rates::default();
        let mut t = t0();
        for _ in 0..LEARNING_MINUTES + 5 {
            for _ in 0..5 {
                assert_eq!(r.read("k", t, limits), RateVerdict::Normal);
            }
            t += Duration::minutes(1);
        }
        let mut fired = 0;
        for _ in 0..100 {
            if matches!(r.read("k", t, limits), RateVerdict::Baseline { .. }) {
                fired += 1;
            }
        }
        assert_eq!(fired, 1, "once in the minute");
        let ceiling = RateLimits {
            ceiling: 50,
            ..limits
        };
        let mut r = Rates::default();
        let verdicts: Vec<_> = (0..51).map(|_| r.read("k", t0(), ceiling)).collect();
        assert_eq!(verdicts[50], RateVerdict::Ceiling { count: 51 });
    }
}
