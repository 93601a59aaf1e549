//! Codes: HOTP for one counter, the code for a time step, and the acceptance rule that
//! tolerates one step of drift, compares in constant time and refuses replays.

use subtle::{Choice, ConditionallySelectable, ConstantTimeEq};
use totp_rs::{Algorithm, TOTP};
use zeroize::Zeroizing;

use super::{DIGITS, DRIFT_STEPS, PERIOD_SECS, TotpSecret};

/// Why a submitted code was refused. The server should answer `Invalid` and `Replayed`
/// alike to the client (both are just "wrong code"); the distinction is for the audit log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TotpError {
    #[error("a code is exactly {DIGITS} digits")]
    Malformed,
    #[error("the code is wrong or has expired")]
    Invalid,
    #[error("this code has already been used; wait for the next one")]
    Replayed,
}

/// The time step a Unix time falls in.
pub fn step_of(unix_time: u64) -> u64 {
    unix_time / PERIOD_SECS
}

/// HOTP (RFC 4226) for one counter value, with the given number of digits.
fn hotp(secret: &[u8], counter: u64, digits: usize) -> String {
    // A one-second period makes totp-rs's `time / step` the counter itself.
    TOTP::new_unchecked(
        Algorithm::SHA1,
        digits,
        0,
        1,
        secret.to_vec(),
        None,
        String::new(),
    )
    .generate(counter)
}

/// The 6-digit code for one time step.
pub fn code_for_step(secret: &TotpSecret, step: u64) -> String {
    hotp(secret.expose_bytes(), step, DIGITS)
}

/// The code an authenticator shows at `unix_time`.
pub fn code_at(secret: &TotpSecret, unix_time: u64) -> String {
    code_for_step(secret, step_of(unix_time))
}

/// Checks a submitted code and returns the step it was accepted for, which the caller must
/// store and pass as `last_accepted_step` from then on.
///
/// The three candidate steps are all computed and compared, whatever the outcome, so the
/// time taken says nothing about which one (if any) matched.
pub fn verify(
    secret: &TotpSecret,
    code: &str,
    now_unix: u64,
    last_accepted_step: Option<u64>,
) -> Result<u64, TotpError> {
    if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(TotpError::Malformed);
    }
    let now = step_of(now_unix);
    let first = now.saturating_sub(DRIFT_STEPS);
    let last = now.saturating_add(DRIFT_STEPS);

    let mut matched = Choice::from(0);
    let mut matched_fresh = Choice::from(0);
    let mut accepted = 0u64;
    // Ascending, so when more than one fresh step matches the latest wins, which moves the
    // replay guard furthest forward.
    for step in first..=last {
        let expected = Zeroizing::new(code_for_step(secret, step));
        let equal = expected.as_bytes().ct_eq(code.as_bytes());
        let fresh = Choice::from(u8::from(last_accepted_step.is_none_or(|l| step > l)));
        let take = equal & fresh;
        matched |= equal;
        matched_fresh |= take;
        accepted = u64::conditional_select(&accepted, &step, take);
    }
    if bool::from(matched_fresh) {
        Ok(accepted)
    } else if bool::from(matched) {
        Err(TotpError::Replayed)
    } else {
        Err(TotpError::Invalid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::totp::test_support::rfc_secret;
    use proptest::prelude::*;

    /// RFC 6238 appendix B, SHA1 column.
    const RFC_VECTORS: [(u64, &str); 6] = [
        (59, "94287082"),
        (1_111_111_109, "07081804"),
        (1_111_111_111, "14050471"),
        (1_234_567_890, "89005924"),
        (2_000_000_000, "69279037"),
        (20_000_000_000, "65353130"),
    ];

    #[test]
    fn rfc_6238_sha1_vectors() {
        let secret = rfc_secret();
        for (t, eight) in RFC_VECTORS {
            assert_eq!(hotp(secret.expose_bytes(), step_of(t), 8), eight, "T={t}");
            assert_eq!(code_at(&secret, t), eight[2..], "T={t}");
        }
    }

    const NOW: u64 = 1_700_000_015; // 15 s into step 56_666_667.

    #[test]
    fn current_step_is_accepted_and_returned() {
        let s = rfc_secret();
        let code = code_at(&s, NOW);
        assert_eq!(verify(&s, &code, NOW, None), Ok(step_of(NOW)));
    }

    #[test]
    fn one_step_of_drift_either_way() {
        let s = rfc_secret();
        let step = step_of(NOW);
        let behind = code_for_step(&s, step - 1);
        let ahead = code_for_step(&s, step + 1);
        assert_eq!(verify(&s, &behind, NOW, None), Ok(step - 1));
        assert_eq!(verify(&s, &ahead, NOW, None), Ok(step + 1));
        // The same codes, read from a clock at the edges of the window.
        assert_eq!(verify(&s, &code_at(&s, NOW - 30), NOW, None), Ok(step - 1));
        assert_eq!(verify(&s, &code_at(&s, NOW + 30), NOW, None), Ok(step + 1));
    }

    #[test]
    fn two_steps_of_drift_are_refused() {
        let s = rfc_secret();
        let step = step_of(NOW);
        for far in [step - 2, step + 2, step - 10, step + 10] {
            let code = code_for_step(&s, far);
            // Skip the (one in a million) case where a far code equals a near one.
            if (step - 1..=step + 1).all(|n| code_for_step(&s, n) != code) {
                assert_eq!(verify(&s, &code, NOW, None), Err(TotpError::Invalid));
            }
        }
    }

    #[test]
    fn replay_is_refused() {
        let s = rfc_secret();
        let step = step_of(NOW);
        let code = code_at(&s, NOW);
        let accepted = verify(&s, &code, NOW, None).unwrap();
        assert_eq!(
            verify(&s, &code, NOW, Some(accepted)),
            Err(TotpError::Replayed)
        );
        // Later in the same step, and after the step, the code is still spent.
        assert_eq!(
            verify(&s, &code, NOW + 10, Some(accepted)),
            Err(TotpError::Replayed)
        );
        assert_eq!(
            verify(&s, &code, NOW + 30, Some(accepted)),
            Err(TotpError::Replayed)
        );
        // An older code after a newer one was accepted is refused too.
        let older = code_for_step(&s, step - 1);
        assert_eq!(
            verify(&s, &older, NOW, Some(step)),
            Err(TotpError::Replayed)
        );
        // The next step's code is still good.
        let next = code_for_step(&s, step + 1);
        assert_eq!(verify(&s, &next, NOW + 30, Some(step)), Ok(step + 1));
    }

    #[test]
    fn malformed_codes_are_refused_before_any_work() {
        let s = rfc_secret();
        let code = code_at(&s, NOW);
        for bad in [
            "",
            &code[..5],
            &format!("{code}0"),
            "12345a",
            "abcdef",
            " 12345",
            "123 456",
            "１２３４５６",
            "+12345",
            "-12345",
        ] {
            assert_eq!(
                verify(&s, bad, NOW, None),
                Err(TotpError::Malformed),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn a_wrong_code_is_invalid() {
        let s = rfc_secret();
        let step = step_of(NOW);
        let wrong = (0..1_000_000u32)
            .map(|n| format!("{n:06}"))
            .find(|c| (step - 1..=step + 1).all(|n| &code_for_step(&s, n) != c))
            .unwrap();
        assert_eq!(verify(&s, &wrong, NOW, None), Err(TotpError::Invalid));
    }

    #[test]
    fn step_zero_has_no_step_before_it() {
        let s = rfc_secret();
        assert_eq!(verify(&s, &code_for_step(&s, 0), 0, None), Ok(0));
        assert_eq!(verify(&s, &code_for_step(&s, 1), 0, None), Ok(1));
    }

    proptest! {
        #[test]
        fn verify_never_panics(code in "\\PC{0,10}", now in any::<u64>(), last in proptest::option::of(any::<u64>())) {
            let _ = verify(&rfc_secret(), &code, now, last);
        }

        #[test]
        fn own_code_accepted_once(now in 0u64..4_000_000_000) {
            let s = rfc_secret();
            let code = code_at(&s, now);
            let step = verify(&s, &code, now, None).unwrap();
            prop_assert!(step >= step_of(now));
            prop_assert_eq!(verify(&s, &code, now, Some(step)), Err(TotpError::Replayed));
        }
    }
}
