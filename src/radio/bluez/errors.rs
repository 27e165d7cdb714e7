//! BlueZ and socket errors, mapped onto outcome classes with the raw text kept.
//!
//! bluetoothd reports connection failures as `org.bluez.Error.*` with a reason string from
//! `src/error.h` (`br-connection-page-timeout`, `br-connection-refused`, …) or an errno text
//! ("Host is down", "Connection refused"); BlueZ ≥ 5.67 reports a missing profile as
//! `org.bluez.Error.ProfileUnavailable` ("Exhausted the list of BR/EDR profiles to connect to").
//! A refused RFCOMM connection is how Nokia phones decline; a missing Object Push record means the
//! device cannot receive (iPhones).

use crate::model::outcome::{AttemptResult, Outcome};

/// Classifies a failed connection to a device's Object Push service.
pub fn classify(kind: &str, message: &str) -> AttemptResult {
    let m = format!("{kind} {message}").to_ascii_lowercase();
    let has = |needles: &[&str]| needles.iter().any(|n| m.contains(n));
    let no_opp = [
        "profile-unavailable",
        "profileunavailable",
        "exhausted the list",
        "protocol not available",
    ];
    let unreachable = [
        "page-timeout",
        "host is down",
        "no route to host",
        "timed out",
        "timeout",
        "sdp-search",
    ];
    let outcome = if has(&no_opp) {
        Outcome::NoOpp
    } else if has(&unreachable) {
        Outcome::Unreachable
    } else if has(&["refused", "rejected"]) {
        Outcome::Declined
    } else {
        Outcome::Failed
    };
    AttemptResult::new(outcome, None, format!("bluez {kind}: {message}"), 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bluez_reasons_map_to_outcomes() {
        let cases = [
            ("Failed", "br-connection-page-timeout", Outcome::Unreachable),
            ("Failed", "Host is down", Outcome::Unreachable),
            ("Failed", "br-connection-sdp-search", Outcome::Unreachable),
            (
                "NotAvailable",
                "br-connection-profile-unavailable",
                Outcome::NoOpp,
            ),
            ("Failed", "Protocol not available", Outcome::NoOpp),
            (
                "ProfileUnavailable",
                "Exhausted the list of BR/EDR profiles to connect to",
                Outcome::NoOpp,
            ),
            ("Failed", "br-connection-timeout", Outcome::Unreachable),
            ("Failed", "br-connection-create-socket", Outcome::Failed),
            ("Failed", "br-connection-refused", Outcome::Declined),
            ("Failed", "Connection refused (111)", Outcome::Declined),
            (
                "AuthenticationRejected",
                "Authentication Rejected",
                Outcome::Declined,
            ),
            ("InProgress", "In Progress", Outcome::Failed),
            ("Failed", "br-connection-canceled", Outcome::Failed),
        ];
        for (kind, message, want) in cases {
            let r = classify(kind, message);
            assert_eq!(r.outcome, want, "{kind} {message}");
            assert!(r.reason.contains(message), "raw text kept: {}", r.reason);
        }
    }
}
