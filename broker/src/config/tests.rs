use super::*;

fn error(text: &str) -> ConfigError {
    Config::from_toml_str(text).expect_err("the configuration should be refused")
}

/// Assert that `text` is refused with an error naming `key`, and return its message.
fn error_at(text: &str, key: &str) -> String {
    let e = error(text);
    assert_eq!(e.key(), Some(key), "{e}");
    let shown = e.to_string();
    assert!(shown.starts_with(&format!("{key}: ")), "{shown}");
    shown
}

#[test]
fn default_file_parses_to_the_default_config() {
    let parsed = Config::from_toml_str(default_config_toml()).unwrap();
    assert_eq!(parsed, Config::default());
}

#[test]
fn empty_file_is_the_default_config() {
    assert_eq!(Config::from_toml_str("").unwrap(), Config::default());
    Config::default().validate().unwrap();
}

/// Dotted paths of the leaf keys of a TOML table; arrays of tables use their key once
/// (`listener.bind`).
fn leaf_keys(table: &toml::Table, prefix: &str, out: &mut Vec<String>) {
    for (key, value) in table {
        let path = format!("{prefix}{key}");
        match value {
            toml::Value::Table(t) => leaf_keys(t, &format!("{path}."), out),
            toml::Value::Array(items) if items.iter().all(toml::Value::is_table) => {
                for item in items {
                    leaf_keys(item.as_table().unwrap(), &format!("{path}."), out);
                }
                if items.is_empty() {
                    out.push(path);
                }
            }
            _ => out.push(path),
        }
    }
}

/// Every key of `Config`, as serialized, appears in the commented default file, in its
/// section and directly after a comment. Keys that are not set by default (options) must
/// appear as a commented-out line `# key = value`.
#[test]
fn default_file_documents_every_key() {
    let mut full = Config::default();
    // Set every optional key, so that it serializes too.
    full.limits.max_message_expiry_interval = Some(86_400);
    full.listeners[0].socket = Some("/run/tern/mqtt.sock".into());
    full.listeners[0].max_connections = Some(1000);
    full.listeners[0].max_connection_rate_per_ip = Some(10);
    full.listeners[0].allow_anonymous = Some(false);
    full.auth.password_file = Some("/etc/tern/passwd".into());
    full.listeners[0].tls = Some(Tls {
        cert_file: "/etc/tern/server.pem".into(),
        key_file: "/etc/tern/server.key".into(),
        min_version: TlsVersion::V1_2,
        client_ca_file: Some("/etc/tern/client-ca.pem".into()),
        client_auth: Some(ClientAuth::Required),
        identity_as_username: Some(CertIdentity::Cn),
    });
    full.auth.acl_file = Some("/etc/tern/acl".into());
    full.auth.jwt = Some(Jwt {
        algorithm: JwtAlgorithm::RS256,
        secret: Some("s".into()),
        public_key_file: Some("/etc/tern/jwt.pem".into()),
        issuer: Some("i".into()),
        audience: Some("a".into()),
    });
    let serialized: toml::Table = toml::from_str(&toml::to_string(&full).unwrap()).unwrap();
    let mut keys = Vec::new();
    leaf_keys(&serialized, "", &mut keys);
    assert!(keys.len() >= 20, "{keys:?}");

    let defaults: toml::Table = toml::from_str(&toml::to_string(&Config::default()).unwrap())
        .expect("the default config serializes");
    let mut default_keys = Vec::new();
    leaf_keys(&defaults, "", &mut default_keys);

    // Where each `key = value` line of the file sits: section, key, commented out or not,
    // and whether the line above is a comment.
    let lines: Vec<&str> = default_config_toml().lines().collect();
    let mut section = String::new();
    let mut found = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let line = line.trim();
        // A commented-out table header (`# [listener.tls]`) opens the section of the
        // commented-out keys below it.
        let header = line
            .strip_prefix("# ")
            .filter(|l| l.starts_with('[') && l.ends_with(']'))
            .unwrap_or(line);
        if let Some(name) = header.strip_prefix("[[").and_then(|l| l.strip_suffix("]]")) {
            section = format!("{name}.");
        } else if let Some(name) = header.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = format!("{name}.");
        } else {
            let (commented, body) = match line.strip_prefix("# ") {
                Some(body) => (true, body),
                None => (false, line),
            };
            let Some((key, _)) = body.split_once(" = ") else {
                continue;
            };
            if key.is_empty() || !key.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
                continue;
            }
            let documented = i > 0 && lines[i - 1].trim_start().starts_with('#');
            found.push((format!("{section}{key}"), commented, documented));
        }
    }

    for key in &keys {
        let set_by_default = default_keys.contains(key);
        let hit = found
            .iter()
            .find(|(k, commented, _)| k == key && *commented != set_by_default);
        let Some((_, _, documented)) = hit else {
            panic!(
                "default-config.toml lacks `{key} = ...`{}",
                if set_by_default {
                    ""
                } else {
                    " (commented out)"
                }
            );
        };
        assert!(
            documented,
            "`{key}` in default-config.toml has no comment above it"
        );
    }
}

#[test]
fn partial_file_keeps_the_other_defaults() {
    let config = Config::from_toml_str(
        "[limits]\nmax_connections = 5\n\n[mqtt]\ndeny_subscriptions = [\"#\", \"a/+\"]\n",
    )
    .unwrap();
    let mut expected = Config::default();
    expected.limits.max_connections = 5;
    expected.mqtt.deny_subscriptions = vec!["#".into(), "a/+".into()];
    assert_eq!(config, expected);
}

#[test]
fn listeners_replace_the_default_one() {
    let config = Config::from_toml_str(
        "[[listener]]\nbind = \"127.0.0.1:1884\"\n\n[[listener]]\nbind = \"[::1]:1885\"\n",
    )
    .unwrap();
    let binds: Vec<String> = config
        .listeners
        .iter()
        .map(|l| l.bind.to_string())
        .collect();
    assert_eq!(binds, ["127.0.0.1:1884", "[::1]:1885"]);
    assert_eq!(config.limits, Limits::default());
}

#[test]
fn message_expiry_limit_is_optional() {
    let config = Config::from_toml_str("[limits]\nmax_message_expiry_interval = 60\n").unwrap();
    assert_eq!(config.limits.max_message_expiry_interval, Some(60));
}

#[test]
fn unknown_keys_are_named() {
    let shown = error_at("[mqtt]\ncolour = \"blue\"\n", "mqtt.colour");
    assert!(shown.contains("unknown field `colour`"), "{shown}");
    let shown = error_at("colour = 1\n", "colour");
    assert!(shown.contains("unknown field"), "{shown}");
    error_at("[[listener]]\nport = 1883\n", "listener[0].port");
    error_at("[limits]\n[limit]\n", "limit");
}

#[test]
fn wrong_types_are_named() {
    let shown = error_at(
        "[limits]\nmax_packet_size = \"big\"\n",
        "limits.max_packet_size",
    );
    assert!(shown.contains("invalid type"), "{shown}");
    error_at(
        "[limits]\nreceive_maximum = 70000\n",
        "limits.receive_maximum",
    );
    error_at("[limits]\nmax_connections = -1\n", "limits.max_connections");
    error_at(
        "[auth]\nallow_anonymous = \"yes\"\n",
        "auth.allow_anonymous",
    );
    error_at(
        "[mqtt]\ndeny_subscriptions = \"#\"\n",
        "mqtt.deny_subscriptions",
    );
    error_at(
        "[mqtt]\ndeny_subscriptions = [\"a\", 1]\n",
        "mqtt.deny_subscriptions[1]",
    );
    error_at("limits = 3\n", "limits");
    let shown = error_at(
        "[[listener]]\nbind = \"127.0.0.1:1883\"\n[[listener]]\nbind = \"localhost\"\n",
        "listener[1].bind",
    );
    assert_eq!(shown, "listener[1].bind: invalid socket address syntax");
}

#[test]
fn out_of_range_values_are_named() {
    let shown = error_at("[limits]\nreceive_maximum = 0\n", "limits.receive_maximum");
    assert_eq!(shown, "limits.receive_maximum: must be at least 1 (got 0)");
    error_at("[limits]\nmax_inflight = 0\n", "limits.max_inflight");
    error_at("[limits]\nmax_connections = 0\n", "limits.max_connections");
    error_at("[limits]\nmax_packet_size = 15\n", "limits.max_packet_size");
    error_at(
        "[limits]\nmax_packet_size = 268435461\n",
        "limits.max_packet_size",
    );
    error_at(
        "[limits]\nmax_client_id_len = 22\n",
        "limits.max_client_id_len",
    );
    error_at(
        "[limits]\nmax_message_expiry_interval = 0\n",
        "limits.max_message_expiry_interval",
    );
    error_at("[mqtt]\nmaximum_qos = 3\n", "mqtt.maximum_qos");
    // No way in at all: no listener, and no gRPC.
    error_at("listener = []\n[grpc]\nenabled = false\n", "listener");
    Config::from_toml_str("listener = []\n").expect("gRPC alone is a way in");
    let e = error("[grpc]\nbind = \"10.0.0.1:50051\"\n");
    assert_eq!(e.key(), Some("grpc.token"), "{e}");
    error_at("[log]\nlevel = \"info,a=loud\"\n", "log.level");

    for ok in [
        "[limits]\nmax_packet_size = 16\n",
        "[limits]\nmax_packet_size = 268435460\n",
        "[limits]\nmax_client_id_len = 23\n",
        "[mqtt]\nmaximum_qos = 0\n",
        "[log]\nlevel = \"warn,tern::codec=trace\"\n",
    ] {
        Config::from_toml_str(ok).unwrap_or_else(|e| panic!("{ok:?}: {e}"));
    }
}

#[test]
fn bad_filters_are_named() {
    let shown = error_at(
        "[mqtt]\ndeny_subscriptions = [\"ok/#\", \"a/#/b\"]\n",
        "mqtt.deny_subscriptions[1]",
    );
    assert!(shown.contains("\"a/#/b\""), "{shown}");
    error_at(
        "[mqtt]\ndeny_subscriptions = [\"\"]\n",
        "mqtt.deny_subscriptions[0]",
    );
    error_at(
        "[mqtt]\ndeny_subscriptions = [\"a+\"]\n",
        "mqtt.deny_subscriptions[0]",
    );
}

#[test]
fn syntax_errors_give_the_position() {
    let e = error("[limits]\nmax_connections = = 3\n");
    let ConfigError::Syntax { line, .. } = e else {
        panic!("{e:?}");
    };
    assert_eq!(line, 2);
    assert!(
        e.to_string().starts_with("TOML syntax error at line 2"),
        "{e}"
    );
    // A key given twice is a TOML error too.
    let e = error("[limits]\nmax_connections = 3\nmax_connections = 4\n");
    assert!(matches!(e, ConfigError::Syntax { line: 3, .. }), "{e:?}");
}

#[test]
fn files_are_not_read_here_and_auth_ranges_are_checked() {
    // Loading the files a configuration names is the pre-flight's job (crate::wiring).
    let config =
        Config::from_toml_str("[auth]\npassword_file = \"/nonexistent/passwd\"\n").unwrap();
    assert!(config.auth.password_file.is_some());
    error_at(
        "[auth]\nfailed_login_delay_ms = 60001\n",
        "auth.failed_login_delay_ms",
    );
}

#[test]
fn listener_admission_keys_are_checked() {
    let config = Config::from_toml_str(
        "[[listener]]\ntransport = \"unix\"\nsocket = \"/tmp/t.sock\"\nsocket_mode = 0o600\n\
         [[listener]]\nbind = \"127.0.0.1:1883\"\nproxy_protocol = \"required\"\n\
         max_connections = 5\nmax_connection_rate_per_ip = 2\nallow_anonymous = false\n",
    )
    .unwrap();
    assert_eq!(config.listeners[0].socket_mode, 0o600);
    let l = &config.listeners[1];
    assert_eq!(l.proxy_protocol, ProxyProtocol::Required);
    assert_eq!(
        (
            l.max_connections,
            l.max_connection_rate_per_ip,
            l.allow_anonymous
        ),
        (Some(5), Some(2), Some(false))
    );

    error_at("[[listener]]\ntransport = \"unix\"\n", "listener[0].socket");
    error_at(
        "[[listener]]\nsocket = \"/tmp/t.sock\"\n",
        "listener[0].socket",
    );
    let unix = "[[listener]]\ntransport = \"unix\"\nsocket = \"/tmp/t.sock\"\n";
    error_at(
        &format!("{unix}socket_mode = 0o1777\n"),
        "listener[0].socket_mode",
    );
    error_at(
        &format!("{unix}proxy_protocol = \"optional\"\n"),
        "listener[0].proxy_protocol",
    );
    error_at(
        &format!("{unix}max_connection_rate_per_ip = 5\n"),
        "listener[0].max_connection_rate_per_ip",
    );
    error_at(
        "[[listener]]\nproxy_protocol = \"sometimes\"\n",
        "listener[0].proxy_protocol",
    );
    error_at(
        "[[listener]]\nmax_connections = 0\n",
        "listener[0].max_connections",
    );
    error_at(
        "[[listener]]\nmax_connection_rate_per_ip = 0\n",
        "listener[0].max_connection_rate_per_ip",
    );
}

#[test]
fn load_names_a_missing_file() {
    let e = Config::load("/nonexistent/tern.toml").unwrap_err();
    assert!(matches!(e, ConfigError::Read { .. }), "{e:?}");
    assert!(e.to_string().contains("/nonexistent/tern.toml"), "{e}");
}

#[test]
fn the_http_listener_is_checked_where_its_keys_are() {
    let shown = error_at("[http]\nbind = \"0.0.0.0:8080\"\n", "http.token");
    assert!(shown.contains("reachable from other machines"), "{shown}");
    // HTTPS takes the keys of [listener.tls], but has no MQTT user to name.
    let https = "[http.tls]\ncert_file = \"c.pem\"\nkey_file = \"k.pem\"\n";
    let config = Config::from_toml_str(https).unwrap();
    assert_eq!(config.http.tls.unwrap().cert_file, Path::new("c.pem"));
    let shown = error_at(
        &format!("{https}client_ca_file = \"ca.pem\"\nidentity_as_username = \"cn\"\n"),
        "http.tls.identity_as_username",
    );
    assert!(shown.contains("no MQTT user"), "{shown}");
}
