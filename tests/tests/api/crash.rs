//! Crash safety of the real binary: SIGKILL during 1,000 concurrent secret writes, restart,
//! and nothing acknowledged is lost or half applied (see keyhold_e2e::crash).
//!
//! Two rounds here; `KEYHOLD_CRASH_ROUNDS=20` runs the full proof (docs/reliability.md).

use keyhold_e2e::crash::{CrashHarness, CrashPlan, check_database_file, rounds_from_env};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_concurrent_writes_loses_no_acknowledged_write() {
    let rounds = rounds_from_env(2);
    let mut harness = CrashHarness::start(CrashPlan::default()).await;
    for _ in 0..rounds {
        let report = harness.round().await;
        eprintln!("{report}");
    }
    let dir = harness.finish();
    check_database_file(&dir.path().join("keyhold.db"));
}
