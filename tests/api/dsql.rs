//! Aurora DSQL's IAM authentication, without AWS: the binary, told to use
//! IAM tokens, presents one as its password to a server on loopback that
//! speaks just enough of PostgreSQL's protocol to ask for it.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::Command;

use crate::durability::binary;

/// Accepts one connection, asks for a cleartext password, returns it, and
/// refuses the login as a server refusing a bad token would.
fn capture_password(listener: &TcpListener) -> String {
    let (mut socket, _) = listener.accept().unwrap();
    let mut length = [0u8; 4];
    socket.read_exact(&mut length).unwrap();
    let mut startup = vec![0u8; u32::from_be_bytes(length) as usize - 4];
    socket.read_exact(&mut startup).unwrap();
    // AuthenticationCleartextPassword.
    socket.write_all(&[b'R', 0, 0, 0, 8, 0, 0, 0, 3]).unwrap();
    let mut tag = [0u8; 1];
    socket.read_exact(&mut tag).unwrap();
    assert_eq!(tag[0], b'p', "a password message");
    socket.read_exact(&mut length).unwrap();
    let mut password = vec![0u8; u32::from_be_bytes(length) as usize - 4];
    socket.read_exact(&mut password).unwrap();
    password.pop(); // its NUL
    let mut refusal = Vec::new();
    for field in [
        &b"SFATAL"[..],
        b"C28P01",
        b"Mpassword authentication failed",
    ] {
        refusal.extend_from_slice(field);
        refusal.push(0);
    }
    refusal.push(0);
    let mut message = vec![b'E'];
    message.extend_from_slice(&(refusal.len() as u32 + 4).to_be_bytes());
    message.extend_from_slice(&refusal);
    let _ = socket.write_all(&message);
    String::from_utf8(password).unwrap()
}

fn migrate_with_iam(user: &str, listener: &TcpListener) -> (String, String) {
    let port = listener.local_addr().unwrap().port();
    let mut child = Command::new(binary())
        .arg("migrate")
        .env_clear()
        .env(
            "ACO_DATABASE_URL",
            format!("postgres://{user}@127.0.0.1:{port}/postgres?sslmode=disable"),
        )
        .env("ACO_DATABASE_AUTH", "iam")
        .env("AWS_REGION", "eu-west-1")
        .env("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
        .env(
            "AWS_SECRET_ACCESS_KEY",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        )
        .env("AWS_SESSION_TOKEN", "session/token+1=")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let password = capture_password(listener);
    let _ = child.kill();
    let output = child.wait_with_output().unwrap();
    (
        password,
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn connections_present_a_fresh_iam_token_and_never_print_it() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    for (user, action) in [("admin", "DbConnectAdmin"), ("aco_api", "DbConnect")] {
        let (token, stderr) = migrate_with_iam(user, &listener);
        let prefix = format!("127.0.0.1/?Action={action}&");
        assert!(token.starts_with(&prefix), "{token}");
        let today = chrono::Utc::now().format("%Y%m%d");
        for part in [
            "X-Amz-Algorithm=AWS4-HMAC-SHA256".to_owned(),
            format!("X-Amz-Credential=AKIDEXAMPLE%2F{today}%2Feu-west-1%2Fdsql%2Faws4_request"),
            "X-Amz-Expires=900".to_owned(),
            "X-Amz-SignedHeaders=host".to_owned(),
            "X-Amz-Security-Token=session%2Ftoken%2B1%3D".to_owned(),
        ] {
            assert!(token.contains(&part), "{part} in {token}");
        }
        let signature = token.split("X-Amz-Signature=").nth(1).unwrap();
        assert_eq!(signature.split('&').next().unwrap().len(), 64);
        assert!(!stderr.contains("X-Amz-Signature"), "{stderr}");
    }
}
