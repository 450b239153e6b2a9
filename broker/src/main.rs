//! The `tern` command.
//!
//! `tern start` serves MQTT with the embedded defaults or a TOML file. `tern default-config`
//! prints a complete,
//! commented configuration file, `tern check-config FILE` checks one, `tern passwd` edits a
//! password file, `tern jwt-gen` prints a JSON Web Token for `[auth.jwt]` logins, and
//! `tern decode` runs the codec on bytes given in hex and prints the packet, or the rule the
//! bytes break.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tern::auth::password_file::check_user_name;
use tern::auth::scram::DEFAULT_ITERATIONS;
use tern::auth::{PasswordFile, PasswordFileError};
use tern::codec::{decode_exact, Protocol};
use tern::config::{default_config_toml, Config, ConfigError, Listener};

/// Tern: an MQTT 3.1 / 3.1.1 / 5.0 broker.
#[derive(Debug, Parser)]
#[command(name = "tern", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Start the broker. SIGINT or SIGTERM stops it gracefully; SIGHUP reloads the
    /// certificates of TLS listeners (and other files that support it) without dropping
    /// connections.
    Start {
        /// Configuration file (TOML). Without it, the built-in defaults are used
        /// (`tern default-config` prints them).
        #[arg(long, short, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Listen on this address instead of the configured listeners, e.g. 127.0.0.1:1883.
        /// Repeat it for several listeners.
        #[arg(long, value_name = "ADDR")]
        listen: Vec<SocketAddr>,
    },
    /// Print a complete configuration file with every key at its default value, commented.
    DefaultConfig,
    /// Check a configuration file: print `FILE: ok`, or the offending key and why.
    CheckConfig {
        /// The configuration file (TOML).
        file: PathBuf,
    },
    /// Add, remove or list the users of a password file (`[auth] password_file`).
    Passwd {
        #[command(subcommand)]
        command: Passwd,
    },
    /// Print a JSON Web Token that logs USER in (`[auth.jwt]`): give it as the CONNECT password.
    JwtGen(JwtGen),
    /// Print what a data directory holds (sessions, their subscriptions, retained messages),
    /// read offline: the broker that uses it must be stopped.
    Inspect {
        /// The data directory. Without it, `[storage] path` of --config, or `tern-data`.
        #[arg(value_name = "DIR")]
        path: Option<PathBuf>,
        /// A configuration file whose `[storage] path` to read.
        #[arg(long, short, value_name = "FILE")]
        config: Option<PathBuf>,
    },
    /// Decode one MQTT packet given in hex (spaces allowed, in one argument or several).
    Decode {
        /// Protocol version: 3.1, 3.1.1 or 5.
        #[arg(long, value_name = "V", default_value = "5", value_parser = parse_protocol)]
        protocol: Protocol,
        /// The packet's bytes in hex.
        #[arg(value_name = "HEX", required = true)]
        hex: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
enum Passwd {
    /// Add USER, or give them a new password. The password is read from standard input (one
    /// line), so that scripts can pipe it in; the file is created if it does not exist.
    Add {
        /// The password file.
        file: PathBuf,
        /// The user name.
        user: String,
        /// PBKDF2 iterations: more is slower for the broker and for anyone guessing. At least
        /// 4096, the minimum of RFC 7677.
        #[arg(long, value_name = "N", default_value_t = DEFAULT_ITERATIONS,
            value_parser = clap::value_parser!(u32).range(i64::from(DEFAULT_ITERATIONS)..))]
        iterations: u32,
    },
    /// Remove USER.
    Remove {
        /// The password file.
        file: PathBuf,
        /// The user name.
        user: String,
    },
    /// List the user names, one a line.
    List {
        /// The password file.
        file: PathBuf,
    },
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Start { config, listen } => start_command(config.as_deref(), listen),
        Command::DefaultConfig => {
            print!("{}", default_config_toml());
            ExitCode::SUCCESS
        }
        Command::CheckConfig { file } => match load_checked(&file) {
            Ok(_) => {
                println!("{}: ok", file.display());
                ExitCode::SUCCESS
            }
            Err(e) => {
                println!("{}", describe(&file, &e));
                ExitCode::from(1)
            }
        },
        Command::Passwd { command } => match passwd_command(command) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("tern passwd: {e}");
                ExitCode::from(1)
            }
        },
        Command::Decode { protocol, hex } => decode_command(protocol, &hex.concat()),
        Command::Inspect { path, config } => match inspect_command(path, config.as_deref()) {
            Ok(report) => {
                print!("{report}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("tern inspect: {e}");
                ExitCode::from(1)
            }
        },
        Command::JwtGen(args) => match jwt_gen_command(&args) {
            Ok(token) => {
                println!("{token}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("tern jwt-gen: {e}");
                ExitCode::from(1)
            }
        },
    }
}

/// `tern jwt-gen`: what the token says and what signs it.
#[derive(Debug, clap::Args)]
struct JwtGen {
    /// The signature algorithm: HS256 (with --secret), RS256 or ES256 (with --private-key).
    #[arg(long, value_name = "ALG", default_value = "HS256", value_parser = parse_jwt_algorithm)]
    algorithm: tern::config::JwtAlgorithm,
    /// The HS256 secret (at least 32 bytes), the broker's `[auth.jwt] secret`. Note that a
    /// command line is visible to other users of the machine.
    #[arg(
        long,
        value_name = "SECRET",
        conflicts_with = "private_key",
        required_unless_present = "private_key"
    )]
    secret: Option<String>,
    /// The PEM private key (PKCS#8; PKCS#1 for RSA too) whose public key is the broker's
    /// `[auth.jwt] public_key_file`.
    #[arg(long, value_name = "FILE")]
    private_key: Option<PathBuf>,
    /// The user name (the `sub` claim).
    #[arg(long, value_name = "USER")]
    user: String,
    /// How long the token is valid, in seconds (the `exp` claim).
    #[arg(long, value_name = "SECONDS", default_value_t = 3600)]
    expires_in: u64,
    /// A topic filter the token may subscribe to (`%u` and `%c` allowed); repeatable. With
    /// any --read or --write, the token may use only the topics listed (a `topics` claim).
    #[arg(long, value_name = "FILTER")]
    read: Vec<String>,
    /// A topic filter the token may publish to; repeatable. See --read.
    #[arg(long, value_name = "FILTER")]
    write: Vec<String>,
}

fn jwt_gen_command(args: &JwtGen) -> Result<String, String> {
    use tern::auth::jwt::{generate, SigningKey, TopicsClaim};
    let key = match (&args.secret, &args.private_key) {
        (Some(secret), _) => SigningKey::Secret(secret.as_bytes()),
        (None, Some(path)) => SigningKey::PrivateKeyFile(path),
        (None, None) => return Err("give --secret or --private-key".into()),
    };
    let topics = (!args.read.is_empty() || !args.write.is_empty()).then(|| TopicsClaim {
        read: args.read.clone(),
        write: args.write.clone(),
    });
    let expires_in = std::time::Duration::from_secs(args.expires_in);
    generate(args.algorithm, key, &args.user, expires_in, topics)
}

fn parse_jwt_algorithm(s: &str) -> Result<tern::config::JwtAlgorithm, String> {
    use tern::config::JwtAlgorithm;
    match s.to_ascii_uppercase().as_str() {
        "HS256" => Ok(JwtAlgorithm::HS256),
        "RS256" => Ok(JwtAlgorithm::RS256),
        "ES256" => Ok(JwtAlgorithm::ES256),
        _ => Err("unknown algorithm (use HS256, RS256 or ES256)".into()),
    }
}

fn passwd_command(command: Passwd) -> Result<(), String> {
    let load = |file: &Path| {
        PasswordFile::load(file).map_err(|e| match e {
            PasswordFileError::Line { .. } => format!("{}: {e}", file.display()),
            _ => e.to_string(),
        })
    };
    match command {
        Passwd::Add {
            file,
            user,
            iterations,
        } => {
            check_user_name(&user)?;
            let mut passwords = if file.exists() {
                load(&file)?
            } else {
                PasswordFile::default()
            };
            let password = read_password(&user)?;
            let replaced = passwords.get(&user).is_some();
            passwords
                .set_password(&user, password.as_bytes(), iterations)
                .map_err(|e| format!("no randomness for the salt: {e}"))?;
            passwords.save(&file).map_err(|e| e.to_string())?;
            let done = if replaced {
                "password changed in"
            } else {
                "added to"
            };
            println!("{user}: {done} {}", file.display());
        }
        Passwd::Remove { file, user } => {
            let mut passwords = load(&file)?;
            if !passwords.remove(&user) {
                return Err(format!("{} has no user {user:?}", file.display()));
            }
            passwords.save(&file).map_err(|e| e.to_string())?;
            println!("{user}: removed from {}", file.display());
        }
        Passwd::List { file } => {
            for (user, _) in load(&file)?.users() {
                println!("{user}");
            }
        }
    }
    Ok(())
}

/// One line of standard input, without its line ending. A terminal gets a prompt first (the
/// password is echoed: pipe it in to keep it off the screen).
fn read_password(user: &str) -> Result<String, String> {
    use std::io::{BufRead, IsTerminal};
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("password for {user} (echoed): ");
    }
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .map_err(|e| format!("cannot read the password from standard input: {e}"))?;
    let password = line.strip_suffix('\n').unwrap_or(&line);
    let password = password.strip_suffix('\r').unwrap_or(password);
    if password.is_empty() {
        return Err("no password on standard input (an empty password is not allowed)".into());
    }
    Ok(password.to_owned())
}

fn start_command(file: Option<&Path>, listen: Vec<SocketAddr>) -> ExitCode {
    let mut config = match file {
        Some(file) => match load_checked(file) {
            Ok(config) => config,
            Err(e) => {
                eprintln!("tern: {}", describe(file, &e));
                return ExitCode::from(1);
            }
        },
        None => Config::default(),
    };
    if !listen.is_empty() {
        config.listeners = listen
            .into_iter()
            .map(|bind| Listener {
                bind,
                ..Listener::default()
            })
            .collect();
    }
    run_broker(config)
}

/// Reads the configuration file and runs the pre-flight on it: its rules, and the files it
/// names (certificates, passwords, ACL, JWT key). `check-config` and `start` both use it.
fn load_checked(file: &Path) -> Result<Config, ConfigError> {
    let config = Config::load(file)?;
    tern::wiring::preflight(&config)?;
    Ok(config)
}

/// A configuration error, preceded by the file's name unless it already says it.
fn describe(file: &Path, e: &ConfigError) -> String {
    match e {
        ConfigError::Read { .. } => e.to_string(),
        _ => format!("{}: {e}", file.display()),
    }
}

/// Runs the broker with a loaded, validated configuration until SIGINT or SIGTERM.
fn run_broker(config: Config) -> ExitCode {
    init_logging(&config.log);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("tern: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let result = runtime.block_on(async {
        let server = tern::wiring::bind(config).await?;
        #[cfg(unix)]
        reload_on_sighup(server.reload_handle())?;
        server.run(shutdown_signal()).await
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line: in the log, or on stderr if the log shows no errors.
            match tracing::enabled!(tracing::Level::ERROR) {
                true => tracing::error!("{e:#}"),
                false => eprintln!("tern: {e:#}"),
            }
            ExitCode::from(1)
        }
    }
}

/// Logs to stderr at the configured level; `RUST_LOG` overrides it.
fn init_logging(log: &tern::config::Log) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&log.level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match log.format {
        // One JSON object per line, for log collectors: time, level, target, message and
        // every field.
        tern::config::LogFormat::Json => builder.json().try_init(),
        // Colour only on a terminal: a log file or a pipe gets plain text.
        tern::config::LogFormat::Text => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .try_init(),
    };
}

/// Asks the server to reload (the certificates of TLS listeners, and whatever else listens to
/// its reload handle) on each SIGHUP. The handler is in place before the server serves, so a
/// SIGHUP never kills a running broker.
#[cfg(unix)]
fn reload_on_sighup(handle: tern::server::ReloadHandle) -> anyhow::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut hangup =
        signal(SignalKind::hangup()).map_err(|e| anyhow::anyhow!("cannot handle SIGHUP: {e}"))?;
    tokio::spawn(async move {
        while hangup.recv().await.is_some() {
            tracing::info!("SIGHUP: reloading");
            handle.reload();
        }
    });
    Ok(())
}

/// Completes on SIGINT (Ctrl-C) or, on Unix, SIGTERM.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = interrupt => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = interrupt.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}

fn parse_protocol(s: &str) -> Result<Protocol, String> {
    match s {
        "3.1" => Ok(Protocol::V3_1),
        "3.1.1" => Ok(Protocol::V3_1_1),
        "5" | "5.0" => Ok(Protocol::V5),
        _ => Err("unknown protocol (use 3.1, 3.1.1 or 5)".into()),
    }
}

/// `tern inspect`: the report of a data directory, which must exist.
fn inspect_command(path: Option<PathBuf>, config: Option<&Path>) -> anyhow::Result<String> {
    use tern::engine::store::Store;
    let path = match (path, config) {
        (Some(path), _) => path,
        (None, Some(file)) => {
            load_checked(file)
                .map_err(|e| anyhow::anyhow!(describe(file, &e)))?
                .storage
                .path
        }
        (None, None) => tern::config::Storage::default().path,
    };
    if !path.is_dir() {
        anyhow::bail!("{}: no such data directory", path.display());
    }
    let sync = tern::store::SyncPolicy::Os;
    let mut store = tern::store::DiskStore::open(&path, sync)?;
    let restored = store.load()?;
    Ok(tern::store::inspect::report(
        &restored,
        std::time::SystemTime::now(),
    ))
}

fn decode_command(protocol: Protocol, hex: &str) -> ExitCode {
    let bytes = match parse_hex(hex) {
        Ok(bytes) if !bytes.is_empty() => bytes,
        Ok(_) => {
            eprintln!("tern decode: no bytes given");
            return ExitCode::from(2);
        }
        Err(e) => {
            eprintln!("tern decode: {e}");
            return ExitCode::from(2);
        }
    };
    match decode_exact(&bytes, protocol) {
        Ok(packet) => {
            println!("{packet:#?}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            println!("{e}");
            println!("reason code: {}", e.reason_code());
            ExitCode::from(1)
        }
    }
}

fn parse_hex(s: &str) -> Result<Vec<u8>, String> {
    let digits: Vec<char> = s.chars().filter(|c| !c.is_whitespace()).collect();
    if !digits.len().is_multiple_of(2) {
        return Err("odd number of hex digits".into());
    }
    digits
        .chunks(2)
        .map(|pair| {
            let text: String = pair.iter().collect();
            u8::from_str_radix(&text, 16).map_err(|_| format!("{text:?} is not a hex byte"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
