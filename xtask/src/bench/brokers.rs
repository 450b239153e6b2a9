//! The brokers a benchmark runs: how each is configured, started, pinned and stopped.

use super::*;

/// A broker under test.
pub(super) struct Broker {
    pub(super) name: String,
    pub(super) version: String,
    /// The command, with `{conf}` where the configuration file goes.
    pub(super) program: PathBuf,
    pub(super) args: Vec<String>,
    /// The configuration, with `{port}` (and `{v5port}`) for the listening ports.
    pub(super) config_text: String,
    pub(super) config_file: PathBuf,
    pub(super) config_notes: &'static str,
    /// Whether MQTT 5.0 has a listener of its own (`{v5port}` in the configuration).
    pub(super) v5_listener: bool,
}

/// A running broker, killed when dropped.
pub(super) struct Running(pub(super) Child);

impl Running {
    pub(super) fn stop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop();
    }
}

pub(super) const TERN_NOTES: &str = "\
- Tern's defaults, but for two keys: `max_connections = 20000` (room for the 10,000 idle
  connections and the clients of every scenario) and `[log] level = \"warn\"` (no log line
  per connection). So: an outbound QoS 1/2 window of 256 per subscriber, a session queue whose
  high-water mark is 1000 messages or 16 MiB (over it, publishers are held back; nothing
  acknowledged is dropped), a 5.0 Receive Maximum of 32, and a slow subscriber closed with
  0x97 after 5 s (1 s if it reads nothing). `--tern-set KEY=VALUE` changes a `[limits]` key.
- Its store is on, as by default, in a fresh directory per run (`[storage] path`), with the
  default sync policy (`sync = \"interval\"`: an fsync at most every second; every commit
  survives kill -9). It writes only for sessions that outlive their connections and for
  retained messages: with `--storage` (subscribers with Clean Session 0); `tern-memory` is
  the same binary and clients with `[storage] mode = \"memory\"`.";

pub(super) const MOSQUITTO_NOTES: &str = "\
- `persistence false`: nothing written to disk (Tern keeps nothing on disk either here);
  with `--storage`, `persistence true` in a fresh directory per run, with Mosquitto's default
  autosave (its in-memory state written out every 30 minutes and at exit).
- `max_queued_messages 0`, `max_queued_bytes 0`: no queue limit (0 means none), so no message is dropped.
- `max_inflight_messages 1000`: outbound QoS 1/2 window per client (the default, 20, would throttle it;
  0, unlimited, makes Mosquitto's in-flight lists, which it searches linearly, very slow).
- `max_connections -1`: no connection limit.
- `set_tcp_nodelay true`: no Nagle delay (Tern sets TCP_NODELAY on every connection).
- `log_type error`: no log line per connection.";

pub(super) const RUMQTTD_NOTES: &str = "\
- `max_connections = 20010`, `next_connection_delay_ms = 0`: 10,000 connections are accepted without
  a pause between them.
- `max_segment_size = 104857600`, `max_segment_count = 10`: the router's commit log (1 GiB) never
  overwrites a message a subscriber has not read.
- `max_outgoing_packet_count = 1000`, `max_inflight_count = 1000`: per-connection windows (the same
  as Tern's and Mosquitto's outbound in-flight window).
- `max_payload_size = 1048576`. A 5.0 listener on a second port serves the `shared` scenarios.
- No console or Prometheus listener.";

impl Broker {
    pub(super) fn tern(bin: &Path, out: &Path, opts: &Options) -> Broker {
        let mut config = String::from(
            "[[listener]]\nbind = \"127.0.0.1:{port}\"\ntransport = \"tcp\"\n\n[limits]\n\
             max_connections = 20000\n\n[log]\nlevel = \"warn\"\n\n\
             [http]\nbind = \"127.0.0.1:{httpport}\"\n\n[grpc]\nenabled = false\n",
        );
        for (key, value) in &opts.tern_set {
            let line = format!("{key} = {value}\n");
            let prefix = format!("\n{key} = ");
            match config.find(&prefix) {
                Some(at) => {
                    let end = config[at + 1..]
                        .find('\n')
                        .map_or(config.len(), |e| at + 1 + e + 1);
                    config.replace_range(at + 1..end, &line);
                }
                None => {
                    let at = config.find("[limits]\n").expect("template has [limits]") + 9;
                    config.insert_str(at, &line);
                }
            }
        }
        // Tern's default store, in a fresh directory per run (`tern-memory` keeps nothing).
        config.push_str("\n[storage]\npath = \"{data}\"\n");
        let tern = bin.join("tern");
        if opts.logins.is_some() {
            // The load generator's login storm logs in as `bench` (PBKDF2, 4096 iterations):
            // anonymous clients (the scenario's) are still let in.
            let passwd = out.join("bench.passwd");
            let _ = std::fs::remove_file(&passwd);
            let mut add = Command::new(&tern)
                .args(["passwd", "add"])
                .arg(&passwd)
                .arg("bench")
                .stdin(std::process::Stdio::piped())
                .spawn()
                .expect("tern passwd runs");
            if let Some(mut stdin) = add.stdin.take() {
                use std::io::Write;
                let _ = writeln!(stdin, "bench-password");
            }
            let _ = add.wait();
            config.push_str(&format!(
                "\n[auth]\npassword_file = {:?}\n",
                passwd.display().to_string()
            ));
        }
        let version = Command::new(&tern)
            .arg("--version")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_else(|_| "tern".into());
        Broker {
            name: "tern".into(),
            version,
            program: tern,
            args: strings(&["start", "--config", "{conf}"]),
            config_text: config,
            config_file: out.join("tern.toml"),
            config_notes: TERN_NOTES,
            v5_listener: false,
        }
    }

    /// Tern with nothing kept, beside a Tern with its store (`--storage`).
    pub(super) fn tern_memory(bin: &Path, out: &Path, opts: &Options) -> Broker {
        let memory = Options {
            storage: false,
            tern_set: opts.tern_set.clone(),
            ..Options::default()
        };
        let mut b = Broker::tern(bin, out, &memory);
        b.config_text = b.config_text.replace(
            "[storage]\npath = \"{data}\"\n",
            "[storage]\nmode = \"memory\"\n",
        );
        b.name = "tern-memory".into();
        b.config_file = out.join("tern-memory.toml");
        b
    }

    pub(super) fn mosquitto(out: &Path, storage: bool) -> Option<Broker> {
        let program = PathBuf::from(find_mosquitto());
        let output = Command::new(&program).arg("-h").output().ok()?;
        let version = String::from_utf8_lossy(&output.stdout)
            .lines()
            .next()
            .unwrap_or("mosquitto")
            .trim()
            .to_string();
        Some(Broker {
            name: "mosquitto".into(),
            version,
            program,
            args: strings(&["-c", "{conf}"]),
            config_text: format!(
                "per_listener_settings false\nallow_anonymous true\n{persistence}\
                 max_queued_messages 0\nmax_queued_bytes 0\nmax_inflight_messages 1000\n\
                 max_connections -1\nset_tcp_nodelay true\nlog_dest stderr\nlog_type error\n\
                 listener {{port}} 127.0.0.1\n",
                persistence = if storage {
                    "persistence true\npersistence_location {data}/\n"
                } else {
                    "persistence false\n"
                }
            ),
            config_file: out.join("mosquitto.conf"),
            config_notes: MOSQUITTO_NOTES,
            v5_listener: false,
        })
    }

    pub(super) fn rumqttd(out: &Path) -> Option<Broker> {
        let mut candidates = vec![PathBuf::from("rumqttd")];
        if let Some(home) = std::env::var_os("HOME") {
            candidates.push(Path::new(&home).join(".cargo/bin/rumqttd"));
        }
        let program = candidates.into_iter().find(|p| {
            Command::new(p)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })?;
        let version = Command::new(&program)
            .arg("--version")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_else(|_| "rumqttd".into());
        let connections = "connection_timeout_ms = 60000\nmax_payload_size = 1048576\n\
                           max_inflight_count = 1000\ndynamic_filters = true\n";
        Some(Broker {
            name: "rumqttd".into(),
            version,
            program,
            args: strings(&["--config", "{conf}"]),
            config_text: format!(
                "id = 0\n\n[router]\nid = 0\nmax_connections = 20010\n\
                 max_outgoing_packet_count = 1000\nmax_segment_size = 104857600\n\
                 max_segment_count = 10\n\n[v4.1]\nname = \"v4-1\"\n\
                 listen = \"127.0.0.1:{{port}}\"\nnext_connection_delay_ms = 0\n\
                 [v4.1.connections]\n{connections}\n[v5.1]\nname = \"v5-1\"\n\
                 listen = \"127.0.0.1:{{v5port}}\"\nnext_connection_delay_ms = 0\n\
                 [v5.1.connections]\n{connections}"
            ),
            config_file: out.join("rumqttd.toml"),
            config_notes: RUMQTTD_NOTES,
            v5_listener: true,
        })
    }

    /// Writes the configuration for `port` and starts the broker; returns once it listens.
    pub(super) fn start(
        &self,
        port: u16,
        v5_port: u16,
        http_port: u16,
        opts: &Options,
        pin: bool,
    ) -> Result<Running, String> {
        // A fresh data directory per run, for the brokers that keep state.
        let data = self.config_file.with_extension("data");
        let _ = std::fs::remove_dir_all(&data);
        std::fs::create_dir_all(&data).map_err(|e| format!("{}: {e}", data.display()))?;
        let text = self
            .config_text
            .replace("{port}", &port.to_string())
            .replace("{v5port}", &v5_port.to_string())
            .replace("{httpport}", &http_port.to_string())
            .replace("{data}", &data.display().to_string());
        std::fs::write(&self.config_file, text)
            .map_err(|e| format!("{}: {e}", self.config_file.display()))?;
        let conf = self.config_file.display().to_string();
        let args: Vec<String> = self
            .args
            .iter()
            .map(|a| a.replace("{conf}", &conf))
            .collect();
        let mut command = if pin {
            let mut c = Command::new("taskset");
            c.args(["-c", &opts.broker_cpus]).arg(&self.program);
            c
        } else {
            Command::new(&self.program)
        };
        let log = self.config_file.with_extension("log");
        let log = std::fs::File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
        let child = command
            .args(&args)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", self.program.display()))?;
        let mut running = Running(child);
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let started = Instant::now();
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            if let Ok(Some(status)) = running.0.try_wait() {
                return Err(format!(
                    "{} exited at start ({status}); see {}",
                    self.name,
                    self.config_file.with_extension("log").display()
                ));
            }
            if started.elapsed() > Duration::from_secs(10) {
                return Err(format!(
                    "{} did not listen on {addr} within 10 s",
                    self.name
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        // Let the probe connection's close settle before measuring anything.
        std::thread::sleep(Duration::from_millis(200));
        Ok(running)
    }
}
