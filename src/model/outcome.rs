//! How one push attempt ended, in the seven classes every report, policy rule and database
//! row speaks of. The raw OBEX response code and a human reason travel with it, so nothing a
//! phone said is lost when it is classified.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The class of an attempt's end.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The phone took the whole object (OBEX Success).
    Accepted,
    /// The user said no: 0xC3 Forbidden, or a refused connection (Nokia).
    Declined,
    /// Nobody decided before the timeout (we sent ABORT), or Android's prompt expired.
    Ignored,
    /// The phone will not take this object: 0xCF, 0xC0 or 0xCB.
    UnsupportedType,
    /// The device offers no Object Push service.
    NoOpp,
    /// The device could not be reached (page timeout, gone).
    Unreachable,
    /// Anything else; the raw code and the reason say what.
    Failed,
}

impl Outcome {
    pub const ALL: [Outcome; 7] = [
        Outcome::Accepted,
        Outcome::Declined,
        Outcome::Ignored,
        Outcome::UnsupportedType,
        Outcome::NoOpp,
        Outcome::Unreachable,
        Outcome::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Accepted => "accepted",
            Outcome::Declined => "declined",
            Outcome::Ignored => "ignored",
            Outcome::UnsupportedType => "unsupported_type",
            Outcome::NoOpp => "no_opp",
            Outcome::Unreachable => "unreachable",
            Outcome::Failed => "failed",
        }
    }

    /// Worth trying again later: the phone never gave an answer we must respect.
    pub fn is_transient(self) -> bool {
        matches!(self, Outcome::Unreachable | Outcome::Failed)
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Outcome {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Outcome::ALL
            .into_iter()
            .find(|o| o.as_str() == s)
            .ok_or_else(|| format!("{s:?} is not an outcome"))
    }
}

/// The full account of one attempt's end.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttemptResult {
    pub outcome: Outcome,
    /// The OBEX response code that decided it, when one did.
    pub raw_code: Option<u8>,
    /// One line for people: what happened, in words.
    pub reason: String,
    /// Body bytes the phone acknowledged.
    pub bytes: u64,
}

impl AttemptResult {
    pub fn new(
        outcome: Outcome,
        raw_code: Option<u8>,
        reason: impl Into<String>,
        bytes: u64,
    ) -> Self {
        AttemptResult {
            outcome,
            raw_code,
            reason: reason.into(),
            bytes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for o in Outcome::ALL {
            assert_eq!(o.as_str().parse::<Outcome>().unwrap(), o);
            assert_eq!(serde_json::to_string(&o).unwrap(), format!("\"{o}\""));
        }
        assert!("maybe".parse::<Outcome>().is_err());
    }
}
