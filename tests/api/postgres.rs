//! The PostgreSQL store against a real server: `ACO_TEST_DATABASE_URL`
//! names an empty database (`scripts/postgres.sh` makes one; `.ci/run` runs
//! these tests through it). Without it they say so and pass: the default
//! `cargo test` needs nothing installed.

use aco_api::store::postgres::{self, PostgresConfig};

fn database() -> Option<PostgresConfig> {
    let Ok(url) = std::env::var("ACO_TEST_DATABASE_URL") else {
        eprintln!("no ACO_TEST_DATABASE_URL: the PostgreSQL tests did not run");
        return None;
    };
    Some(PostgresConfig::from_url(&url, 2).expect("ACO_TEST_DATABASE_URL"))
}

#[tokio::test]
async fn migrations_apply_every_step_once_and_again_harmlessly() {
    let Some(config) = database() else { return };
    let first = postgres::migrate(&config).await.unwrap();
    let (recorded, steps) = postgres::schema_steps(&config).await.unwrap();
    assert_eq!(recorded, steps);
    assert!(first == steps || first == 0, "{first} of {steps}");
    assert_eq!(postgres::migrate(&config).await.unwrap(), 0);

    // Every table the steps create is there, with its columns.
    let pool = config.pool().unwrap();
    let client = pool.get().await.unwrap();
    let columns: i64 = client
        .query_one(
            "SELECT count(*) FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> 'aco_schema_steps'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let tables: i64 = client
        .query_one(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> 'aco_schema_steps'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(tables, 24);
    assert!(columns > 200, "{columns} columns");
}

#[tokio::test]
async fn an_unreachable_database_is_named_without_its_password() {
    // A port nothing listens on.
    let port = {
        let socket = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        socket.local_addr().unwrap().port()
    };
    let config = PostgresConfig::from_url(
        &format!("postgres://aco:s3cret@127.0.0.1:{port}/aco?sslmode=disable"),
        1,
    )
    .unwrap();
    let error = postgres::migrate(&config).await.unwrap_err().to_string();
    assert!(error.contains("cannot be reached"), "{error}");
    assert!(
        error.contains(&format!("postgres://aco@127.0.0.1:{port}/aco")),
        "{error}"
    );
    assert!(!error.contains("s3cret"), "{error}");
}
