//! The `o4send.toml` check: the operator's file as the appliance reads it from the boot
//! partition (bytes decoded as UTF-8 or UTF-16 text), layered over the built-in defaults and
//! validated, as `o4send config check` and the daemon do.

use o4send::config::{decode, Config, Layers, OperatorFile};

/// A file the appliance takes writes out (`Config::to_toml`, the daemon's effective settings)
/// and loads back the same; a file it refuses is refused in one line.
pub fn config_toml(data: &[u8]) {
    let text = match decode(data) {
        Ok(t) => t,
        Err(why) => return super::explained(&why),
    };
    let operator = OperatorFile {
        path: "o4send.toml".into(),
        text,
    };
    match Config::from_layers(Layers::BuiltIn, Some(&operator)) {
        Ok(cfg) => {
            let again = Config::from_toml(&cfg.to_toml()).expect("the effective file loads");
            assert_eq!(again, cfg);
        }
        Err(e) => super::explained(&e.0),
    }
}
