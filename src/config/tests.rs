use super::*;

fn env(pairs: &[(&str, &str)]) -> config::Map<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn write(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("o4send.toml");
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

fn load_err(text: &str) -> String {
    let (_d, path) = write(text);
    let err = Config::load_with_env(&path, false, env(&[])).unwrap_err().0;
    assert!(!err.contains('\n'), "error must be one line: {err}");
    err
}

#[test]
fn default_toml_is_the_default() {
    assert_eq!(Config::from_toml(DEFAULT_TOML).unwrap(), Config::default());
}

#[test]
fn empty_file_gives_defaults() {
    let (_d, path) = write("");
    assert_eq!(
        Config::load_with_env(&path, false, env(&[])).unwrap(),
        Config::default()
    );
}

#[test]
fn errors_name_the_key() {
    assert!(load_err("[policy]\nmin_rsi = -80\n").contains("min_rsi"));
    assert!(load_err("[policy]\nmin_rssi = \"near\"\n").contains("policy.min_rssi"));
    assert!(load_err("[policy]\nmin_rssi = 40\n").contains("policy.min_rssi = 40"));
    assert!(load_err("[policy]\nallow = [\"nope\"]\n").contains("not a Bluetooth address"));
    assert!(load_err("[policy]\nclasses = [\"toaster\"]\n").contains("toaster"));
    assert!(load_err("[[radio.adapters]]\nid = \"hci0\"\nslots = 9\n")
        .contains("radio.adapters[0].slots = 9"));
    assert!(load_err("[appliance]\ntime_zone = \"Mars/Olympus\"\n").contains("appliance.time_zone"));
    assert!(load_err("[obex]\nmax_packet = 100\n").contains("obex.max_packet = 100"));
    assert!(load_err("[policy\n").contains("o4send.toml"));
}

#[test]
fn missing_file_is_named() {
    let err =
        Config::load_with_env(Path::new("/nonexistent/o4send.toml"), false, env(&[])).unwrap_err();
    assert_eq!(err.0, "config file /nonexistent/o4send.toml does not exist");
    assert_eq!(
        Config::load_with_env(Path::new("/nonexistent/x.toml"), true, env(&[])).unwrap(),
        Config::default()
    );
}

#[test]
fn environment_overrides_and_unrelated_variables() {
    let (_d, path) = write("[policy]\nmin_rssi = -80\n");
    let vars = vec![
        ("O4SEND_POLICY__MIN_RSSI".to_string(), "-70".to_string()),
        (
            "O4SEND_POLICY__DENY".to_string(),
            "00:11:22:33:44:55,00:11:22:33:44:56".to_string(),
        ),
        ("O4SEND_SKIP_VM".to_string(), "1".to_string()),
        ("PATH".to_string(), "/bin".to_string()),
    ];
    let cfg = Config::load_with_env(&path, false, env_overrides(vars.into_iter())).unwrap();
    assert_eq!(cfg.policy.min_rssi, Some(-70));
    assert_eq!(cfg.policy.deny.len(), 2);
    let bad = env(&[("O4SEND_POLICY__RETRY_LIMIT", "lots")]);
    let err = Config::load_with_env(&path, false, bad).unwrap_err().0;
    assert!(err.contains("policy.retry_limit"), "{err}");
}

#[test]
fn bundle_keys_are_checked() {
    let key = "RWQf6LRCGA9i53mlYecO4IzT51TGPpvWucNSCh1CBM0QTaLn73Y7GFO3";
    let cfg = Config::from_toml(&format!("[bundle]\ntrusted_keys = [\"{key}\"]\n")).unwrap();
    assert_eq!(cfg.bundle.trusted_keys, [key]);
    let err = load_err("[bundle]\ntrusted_keys = [\"RWQnotakey\"]\n");
    assert!(
        err.contains("bundle.trusted_keys[0] = \"RWQnotakey\": not a minisign public key"),
        "{err}"
    );
    assert!(load_err("[bundle]\nmax_bundle_bytes = 0\n").contains("bundle.max_bundle_bytes = 0"));
}

#[test]
fn the_hotspot_is_refused_with_one_line_naming_why() {
    let on = "[hotspot]\nenabled = true\n";
    let country = "[network.wifi]\ncountry = \"DE\"\n";
    // Both at once is the radio's question, asked at boot (hotspot::share::plan), not the file's.
    let (_b, both) = write(&format!(
        "{on}[network.wifi]\ncountry = \"DE\"\n[[network.wifi.networks]]\nssid = \"Staff\"\n"
    ));
    assert!(Config::load_with_env(&both, false, env(&[])).is_ok());
    assert!(load_err(on).contains("network.wifi.country = \"none\": is needed with the hotspot"));
    let dfs = format!("{country}{on}channel = 52\n");
    assert!(load_err(&dfs).contains("hotspot.channel = 52: 5 GHz channels without radar detection"));
    let band = format!("{country}{on}band = \"6\"\n");
    assert!(load_err(&band).contains("band"), "{}", load_err(&band));
    let public = format!("{country}{on}address = \"8.8.8.8\"\n");
    assert!(load_err(&public).contains("hotspot.address = 8.8.8.8"));
    let long = format!("{country}{on}ssid = \"{}\"\n", "x".repeat(33));
    assert!(load_err(&long).contains("hotspot.ssid"));
    let (_d, path) = write(&format!(
        "{country}{on}band = \"2.4\"\nssid = \"Booth 7\"\n"
    ));
    let cfg = Config::load_with_env(&path, false, env(&[])).unwrap();
    assert_eq!((cfg.hotspot.band, cfg.hotspot.channel()), (Band::Ghz24, 1));
}
