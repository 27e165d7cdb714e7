//! Which variant of an A/B test a phone gets: a stable hash of its pseudonym and the test's
//! name. With fleet sync on, the pseudonym is the fleet's (the same at every appliance), so a
//! phone gets the same variant at every booth and never sees both; the test's name is hashed in
//! so two tests split the phones independently.

use sha2::{Digest, Sha256};

/// 0 or 1: the variant (in the campaign's order) for this phone in this test.
pub fn variant(pseudonym: &str, test: &str) -> usize {
    let mut h = Sha256::new();
    h.update(test.as_bytes());
    h.update([0]);
    h.update(pseudonym.as_bytes());
    usize::from(h.finalize()[0] & 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_and_about_half_and_half() {
        assert_eq!(variant("a1b2", "flyer"), variant("a1b2", "flyer"));
        let ones: usize = (0..1000)
            .map(|i| variant(&format!("phone-{i}"), "flyer"))
            .sum();
        assert!((430..=570).contains(&ones), "{ones} of 1000 got variant B");
        let differ = (0..200)
            .filter(|i| {
                let p = format!("phone-{i}");
                variant(&p, "flyer") != variant(&p, "map")
            })
            .count();
        assert!(differ > 50, "two tests split alike: {differ} of 200 differ");
    }
}
