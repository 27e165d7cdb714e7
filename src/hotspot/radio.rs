//! What the board's Wi-Fi radio can do, asked of the kernel with `iw phy` at boot: whether it
//! has 5 GHz channels (Pi 3 B+, 4, 400, 5) or only 2.4 GHz (Pi 3 Model B, Zero W, Zero 2 W), so
//! `band = "auto"` puts the visitors' access point where Bluetooth is not.

use std::process::Command;

/// Whether wlan0's radio has a usable 5 GHz channel; false when it cannot be asked (no radio,
/// no `iw`): 2.4 GHz works on every board.
pub fn has_5ghz() -> bool {
    Command::new("iw")
        .arg("phy")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .is_some_and(|o| lists_5ghz(&String::from_utf8_lossy(&o.stdout)))
}

/// Whether `iw phy`'s answer lists a 5 GHz channel that is not disabled (`no IR` before the
/// country is set is fine: hostapd sets the country first).
pub fn lists_5ghz(iw_phy: &str) -> bool {
    iw_phy.lines().any(|l| {
        let l = l.trim_start();
        let Some(rest) = l.strip_prefix("* ") else {
            return false;
        };
        let mhz: f32 = rest
            .split_whitespace()
            .next()
            .and_then(|f| f.parse().ok())
            .unwrap_or(0.0);
        (5150.0..5900.0).contains(&mhz) && rest.contains("MHz [") && !rest.contains("(disabled)")
    })
}

#[cfg(test)]
mod tests {
    use super::lists_5ghz;

    /// `iw phy` on a Pi 3 Model B (BCM43430, 2.4 GHz only) and a Pi 4 (BCM43455), as iw 6.x prints.
    const PI3: &str = "Wiphy phy0\n\tBand 1:\n\t\tFrequencies:\n\t\t\t* 2412.0 MHz [1] (20.0 dBm)\n\
                       \t\t\t* 2472.0 MHz [13] (20.0 dBm) (no IR)\n\t\t\t* 2484.0 MHz [14] (disabled)\n";
    const PI4: &str = "Wiphy phy0\n\tBand 1:\n\t\tFrequencies:\n\t\t\t* 2412.0 MHz [1] (20.0 dBm)\n\
                       \tBand 2:\n\t\tFrequencies:\n\t\t\t* 5170.0 MHz [34] (disabled)\n\
                       \t\t\t* 5180.0 MHz [36] (20.0 dBm) (no IR)\n\t\t\t* 5260.0 MHz [52] (20.0 dBm) (radar detection)\n";

    #[test]
    fn five_gigahertz_where_the_radio_lists_it() {
        assert!(!lists_5ghz(PI3));
        assert!(lists_5ghz(PI4));
        assert!(!lists_5ghz(
            "Wiphy phy0\n\tBand 2:\n\t\t\t* 5180.0 MHz [36] (disabled)\n"
        ));
        assert!(!lists_5ghz(""));
    }
}
