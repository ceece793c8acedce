//! The command line's subcommands: serving (locally or on Lambda), the
//! schema, migrations, the check, backups, development tokens and the
//! benchmark's dataset. `main.rs` parses the command line and calls [`run`].

use clap::Parser;

use crate::auth::{TokenRequest, mint_hs256};
use crate::config::{
    AppConfig, BackupArgs, Command, DatabaseArgs, JwtConfig, LogFormat, MaintenanceArgs,
    MigrateArgs, ServeArgs, TokenArgs,
};
use crate::http::{AppState, router};
use crate::lambda::LambdaHandler;
use crate::store::Engine;
use crate::store::postgres_roles::AppRole;
use crate::store::{Db, StoreConfig};

/// Whether the process runs in an AWS Lambda container.
pub fn on_lambda() -> bool {
    std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some()
}

/// Serves a Lambda container: the process is started without arguments, and
/// its configuration comes from environment variables only.
pub fn run_on_lambda() -> Result<(), String> {
    let args = LambdaCli::parse_from(["bootstrap"]);
    if args.handler == LambdaHandler::Migrate {
        // No tokens to check and no schema yet: the database settings only.
        init_logging(args.serve.log_format.unwrap_or(LogFormat::Json));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("starting the runtime: {e}"))?;
        return runtime
            .block_on(crate::lambda::run_migrations(
                args.serve.database,
                args.serve.timezone,
            ))
            .map_err(|e| e.to_string());
    }
    serve(args.serve, args.handler)
}

/// Runs one subcommand; the error is the message to print.
pub fn run(command: Command) -> Result<(), String> {
    match command {
        Command::Schema => {
            print!("{}", crate::graphql::sdl());
            Ok(())
        }
        Command::PostgresSteps => {
            for step in crate::store::postgres_migrations::steps() {
                print!("{}\0", step.sql);
            }
            Ok(())
        }
        Command::Migrate(args) => migrate(&args),
        Command::Token(args) => token(&args),
        Command::Backup(args) => backup(&args),
        Command::Check(args) => check(&args),
        Command::Copy(args) => copy(&args),
        Command::BenchData(args) => crate::store::bench::generate(
            &args.database_path,
            args.requests,
            args.fresh,
            &args.bodies,
        )
        .map_err(|e| e.to_string()),
        Command::Serve(args) => serve(args, LambdaHandler::Http),
    }
}

fn token(args: &TokenArgs) -> Result<(), String> {
    if !args.jwt.dev {
        return Err("`token` mints development tokens only: pass --dev (or ACO_DEV=true)".into());
    }
    let jwt = JwtConfig::resolve(&args.jwt).map_err(|e| e.to_string())?;
    let secret = jwt.secret.ok_or("no JWT secret")?;
    let tenant_id =
        crate::domain::validate::tenant_id(&args.tenant).ok_or("--tenant must be a GUID")?;
    let token = mint_hs256(
        &secret,
        &jwt.issuer,
        &jwt.audience,
        &TokenRequest {
            tenant_id,
            roles: args.role.clone(),
            subject: args.sub.clone(),
            name: args.name.clone(),
            email: None,
            issued_at: chrono::Utc::now(),
            ttl_seconds: args.ttl,
        },
    )
    .map_err(|e| e.to_string())?;
    println!("{token}");
    Ok(())
}

fn backup(args: &BackupArgs) -> Result<(), String> {
    args.database.sqlite_only("backup")?;
    if args.file.exists() {
        return Err(format!(
            "{} exists already; choose a new file",
            args.file.display()
        ));
    }
    let db = Db::open(&StoreConfig::new(
        &args.database.database_path,
        args.database.journal_mode,
    ))
    .map_err(|e| e.to_string())?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime
        .block_on(db.backup(args.file.clone()))
        .map_err(|e| e.to_string())?;
    let size = std::fs::metadata(&args.file).map(|m| m.len()).unwrap_or(0);
    println!(
        "{} -> {} ({size} bytes)",
        args.database.database_path.display(),
        args.file.display()
    );
    Ok(())
}

/// `migrate`: [`apply_migrations`], its report printed.
fn migrate(migrate: &MigrateArgs) -> Result<(), String> {
    let app_role = migrate
        .app_role
        .as_deref()
        .map(|name| AppRole::new(name, migrate.app_role_arn.as_deref()))
        .transpose()
        .map_err(|e| e.to_string())?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let args = &migrate.maintenance;
    for line in runtime.block_on(apply_migrations(
        &args.database,
        &args.timezone,
        app_role.as_ref(),
    ))? {
        println!("{line}");
    }
    Ok(())
}

/// Applies the migrations not yet applied (on PostgreSQL, then makes the
/// service's role when one is named), then settles what a migration left to
/// settle (LEDGER-2: each partner's grants on its own usage). What was done,
/// line by line. The `migrate` command and the Lambda migration handler.
pub async fn apply_migrations(
    database: &DatabaseArgs,
    timezone: &str,
    app_role: Option<&AppRole>,
) -> Result<Vec<String>, String> {
    use crate::store::postgres;
    let timezone: chrono_tz::Tz = timezone
        .parse()
        .map_err(|_| format!("unknown time zone {timezone:?}"))?;
    let mut report = Vec::new();
    if let Some(config) = database.postgres().map_err(|e| e.to_string())? {
        let ran = postgres::migrate(&config)
            .await
            .map_err(|e| e.to_string())?;
        let (recorded, steps) = postgres::schema_steps(&config)
            .await
            .map_err(|e| e.to_string())?;
        report.push(format!(
            "{}: {ran} migration steps applied now, {recorded} of {steps} in all",
            config.describe()
        ));
        if let Some(role) = app_role {
            let done = crate::store::postgres_roles::grant(&config, role)
                .await
                .map_err(|e| e.to_string())?;
            report.extend(done);
            report.push(format!("the service may connect as {}", role.name()));
        }
    } else if app_role.is_some() {
        return Err(
            "ACO_DATABASE_APP_ROLE applies to a PostgreSQL-compatible database \
                    (ACO_DATABASE_URL); SQLite has no roles"
                .into(),
        );
    } else {
        let (path, mode) = (database.database_path.clone(), database.journal_mode);
        let version = tokio::task::spawn_blocking(move || Db::migrate(&path, mode))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
        report.push(format!(
            "{}: schema version {version}",
            database.database_path.display()
        ));
    }
    // Opening connects synchronously: off the async threads.
    let opening = database.clone();
    let db = tokio::task::spawn_blocking(move || opening.open())
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    let call = crate::service::Call {
        actor: crate::domain::actor::Actor::system(),
        now: chrono::Utc::now(),
        program_tenant_id: String::new(),
        timezone,
    };
    let indexed = crate::jobs::index_for_search(&db)
        .await
        .map_err(|e| e.to_string())?;
    if indexed > 0 {
        report.push(format!(
            "indexed the names of {indexed} customers and partners for search"
        ));
    }
    let settled = crate::jobs::settle_due(&db, &call)
        .await
        .map_err(|e| e.to_string())?;
    if settled > 0 {
        report.push(format!(
            "settled the credits of {settled} customers, each partner's on its own usage"
        ));
    }
    Ok(report)
}

/// The database, the programme time zone and a runtime, for a maintenance command.
fn maintenance(
    args: &MaintenanceArgs,
) -> Result<(Db, chrono_tz::Tz, tokio::runtime::Runtime), String> {
    let timezone: chrono_tz::Tz = args
        .timezone
        .parse()
        .map_err(|_| format!("unknown time zone {:?}", args.timezone))?;
    let db = args.database.open().map_err(|e| e.to_string())?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(db.ready()).map_err(|e| e.to_string())?;
    Ok((db, timezone, runtime))
}

/// `copy`: the SQLite database into an empty PostgreSQL one, then `check`
/// on the copy.
fn copy(args: &crate::config::CopyArgs) -> Result<(), String> {
    let target = crate::store::postgres::PostgresConfig::from_url(&args.to, 4)
        .map_err(|e| format!("--to: {e}"))?;
    if !args.database_path.exists() {
        return Err(format!("{} does not exist", args.database_path.display()));
    }
    let source = StoreConfig::new(&args.database_path, crate::store::JournalMode::Wal);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let copied = runtime
        .block_on(crate::store::copy::sqlite_to_postgres(&source, &target))
        .map_err(|e| e.to_string())?;
    for (table, rows) in &copied.tables {
        println!("{table}: {rows} rows");
    }
    println!(
        "{} -> {}: copied; checking the copy",
        args.database_path.display(),
        target.describe()
    );
    let timezone: chrono_tz::Tz = args
        .timezone
        .parse()
        .map_err(|_| format!("unknown time zone {:?}", args.timezone))?;
    let db =
        crate::store::Db::open_configured(&source, Some(&target)).map_err(|e| e.to_string())?;
    report_check(&db, timezone, &runtime)
}

fn check(args: &MaintenanceArgs) -> Result<(), String> {
    let (db, timezone, runtime) = maintenance(args)?;
    report_check(&db, timezone, &runtime)
}

/// Runs `check` on `db` and prints what it found; an error if anything is wrong.
fn report_check(
    db: &Db,
    timezone: chrono_tz::Tz,
    runtime: &tokio::runtime::Runtime,
) -> Result<(), String> {
    let month =
        crate::domain::time::Month::of(chrono::Utc::now().with_timezone(&timezone).date_naive());
    let report = runtime
        .block_on(db.read(move |tx| crate::service::check::run(tx, month)))
        .map_err(|e| e.to_string())?;
    println!("integrity_check: {}", report.integrity);
    println!(
        "requests checked: {}; customers with credit: {}",
        report.requests, report.customers_with_credit
    );
    for (rule, customers, rows) in &report.usage_attribution {
        println!(
            "usage recorded before it was kept per partner, attributed by {rule}: \
             {rows} rows of {customers} customers"
        );
    }
    for problem in &report.problems {
        println!("problem: {problem}");
    }
    if report.ok() {
        println!("ok");
        Ok(())
    } else {
        Err(format!(
            "{} problem(s) found",
            report.problems.len() + usize::from(report.integrity != "ok")
        ))
    }
}

/// The log filter `RUST_LOG` gives: a default level and `target=level`
/// pairs. Span and field directives are not taken: their filter brings a
/// regex engine into the binary (0.73 MB of it). An empty value, or one that
/// does not parse, leaves the default, `info,tower_http=warn`.
fn log_filter(directives: Option<&str>) -> tracing_subscriber::filter::Targets {
    directives
        .filter(|directives| !directives.trim().is_empty())
        .and_then(|directives| directives.parse().ok())
        .unwrap_or_else(|| {
            tracing_subscriber::filter::Targets::new()
                .with_default(tracing::Level::INFO)
                .with_target("tower_http", tracing::Level::WARN)
        })
}

fn init_logging(format: LogFormat) {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let filter = log_filter(std::env::var("RUST_LOG").ok().as_deref());
    // Plain text everywhere, a terminal included: a line reads the same in a
    // file or a collector, and the binary carries no colour code writer.
    let lines = tracing_subscriber::fmt::layer().with_ansi(false);
    // The filter alone sets the level below which events are skipped where
    // they are written.
    let logs = tracing_subscriber::registry().with(filter);
    match format {
        LogFormat::Json => logs.with(lines.json().flatten_event(true)).init(),
        LogFormat::Text => logs.with(lines).init(),
    }
}

/// The configuration of a Lambda container: environment variables only.
#[derive(Parser)]
struct LambdaCli {
    #[command(flatten)]
    serve: ServeArgs,
    /// `http` for API Gateway, ALB and Function URL events; `sweep` for scheduled events.
    #[arg(long, env = "ACO_LAMBDA_HANDLER", value_enum, default_value = "http")]
    handler: LambdaHandler,
}

fn serve(args: ServeArgs, lambda_handler: LambdaHandler) -> Result<(), String> {
    let on_lambda = on_lambda();
    let default_format = if on_lambda {
        LogFormat::Json
    } else {
        LogFormat::Text
    };
    init_logging(args.log_format.unwrap_or(default_format));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("starting the runtime: {e}"))?;
    let mut args = args;
    runtime
        .block_on(args.jwt.read_secret())
        .map_err(|e| e.to_string())?;
    let config = AppConfig::from_args(&args).map_err(|e| e.to_string())?;
    // Opening the database and migrating happen once, before serving.
    let db =
        Db::open_configured(&config.store, config.postgres.as_ref()).map_err(|e| e.to_string())?;
    runtime.block_on(async move {
        db.ready().await.map_err(|e| e.to_string())?;
        if config.demo {
            if crate::demo::seed(&db, &config)
                .await
                .map_err(|e| e.to_string())?
            {
                tracing::info!("demo data loaded");
            } else {
                tracing::warn!(
                    database = %database_name(&config),
                    "the database has data already, so the demo was not loaded; \
                     delete it (or choose another --database-path) to start over"
                );
            }
        }
        if let Some(bind) = config.metrics_bind {
            let handle = crate::observe::install_prometheus()?;
            let listener = tokio::net::TcpListener::bind(bind)
                .await
                .map_err(|e| format!("ACO_METRICS_BIND {bind}: {e}"))?;
            tracing::info!(address = %bind, "metrics at /metrics");
            tokio::spawn(crate::observe::serve_metrics(listener, handle));
        }
        if on_lambda {
            crate::observe::write_emf();
        }
        let state = AppState::new(config.clone(), db.clone());
        let app = router(state);
        if on_lambda {
            return match lambda_handler {
                LambdaHandler::Http => crate::lambda::run_http(app).await,
                LambdaHandler::Sweep => crate::lambda::run_sweep(db, config).await,
                // Handled before the database is opened: see `run_on_lambda`.
                LambdaHandler::Migrate => Err("the migration handler serves nothing".into()),
            }
            .map_err(|e| e.to_string());
        }
        tokio::spawn(crate::jobs::run_expiry_sweeps(db.clone(), config.clone()));
        tokio::spawn(crate::jobs::deliverer(db.clone(), &config).run());
        let listener = tokio::net::TcpListener::bind(config.bind)
            .await
            .map_err(|e| format!("binding {}: {e}", config.bind))?;
        let address = listener.local_addr().map_err(|e| e.to_string())?;
        if config.dev {
            print_dev_banner(&config, address);
        }
        tracing::info!(%address, database = %database_name(&config), "serving");
        crate::server::serve(listener, app, config.header_timeout, shutdown_signal()).await;
        // Every request has been answered: nothing writes any more.
        if let Err(e) = db.empty_log() {
            tracing::warn!(error = %e, "the write-ahead log was not emptied");
        }
        Ok(())
    })
}

/// The database served, without a password.
fn database_name(config: &AppConfig) -> String {
    match &config.postgres {
        Some(postgres) => postgres.describe(),
        None => config.store.path.display().to_string(),
    }
}

fn print_dev_banner(config: &AppConfig, address: std::net::SocketAddr) {
    println!("\naco-api dev mode — never use these settings in production");
    println!("  GraphQL:  POST http://{address}/graphql");
    if config.explorer {
        println!(
            "  Explorer: http://{address}/graphql  (add the header  Authorization: Bearer <token>)"
        );
    }
    println!("  Database: {}", database_name(config));
    println!(
        "  Issuer {}  audience {}  programme tenant {}",
        config.jwt.issuer, config.jwt.audience, config.jwt.program_tenant_id
    );
    if let crate::domain::time::Clock::Fixed(at) = config.clock {
        println!("  Clock fixed at {at}");
    }
    if config.demo {
        match crate::demo::tokens(config) {
            Ok(tokens) => {
                println!("\nTokens (valid 12 hours):");
                for t in tokens {
                    println!("\n  {}\n  {}", t.label, t.token);
                }
            }
            Err(e) => eprintln!("could not mint demo tokens: {e}"),
        }
    }
    println!();
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut signal) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            signal.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}

#[cfg(test)]
mod tests {
    use super::log_filter;
    use tracing::Level;

    #[test]
    fn rust_log_takes_a_default_level_and_levels_per_target() {
        let default = log_filter(None);
        assert!(default.would_enable("aco_api::http", &Level::INFO));
        assert!(!default.would_enable("tower_http::trace", &Level::INFO));
        assert!(default.would_enable("tower_http::trace", &Level::WARN));

        let chosen = log_filter(Some("warn,aco_api=debug"));
        assert!(chosen.would_enable("aco_api::store", &Level::DEBUG));
        assert!(!chosen.would_enable("hyper", &Level::INFO));

        // A span or field directive does not parse: the default stands, as
        // it does for an empty value.
        for unparsed in ["[request{trace_id=1}]=debug", "", " "] {
            let filter = log_filter(Some(unparsed));
            assert!(filter.would_enable("aco_api", &Level::INFO), "{unparsed:?}");
            assert!(
                !filter.would_enable("aco_api", &Level::DEBUG),
                "{unparsed:?}"
            );
        }
    }
}
