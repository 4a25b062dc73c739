//! HTTPS served by gusu itself (rustls): a real TLS handshake against a certificate made for the
//! test, cookies marked Secure, and a clear error for a certificate that cannot be read.

mod common;

use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_rustls::rustls::{ClientConfig, RootCertStore};

/// Sends one request over TLS, trusting only `ca`, and returns the whole response.
async fn https(port: u16, ca: &rcgen::Certificate, request: &str) -> String {
    let mut roots = RootCertStore::empty();
    roots.add(ca.der().clone()).unwrap();
    let config = ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = TlsConnector::from(Arc::new(config));
    let mut tcp = None;
    // The server starts on another thread; give it a moment to come up.
    for _ in 0..100 {
        match tokio::net::TcpStream::connect(("127.0.0.1", port)).await {
            Ok(s) => {
                tcp = Some(s);
                break;
            }
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
        }
    }
    let mut tls = connector
        .connect(ServerName::try_from("localhost").unwrap(), tcp.unwrap())
        .await
        .expect("TLS handshake with the test certificate");
    tls.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    tls.read_to_end(&mut response).await.ok();
    String::from_utf8_lossy(&response).into_owned()
}

#[tokio::test]
async fn serves_https_with_secure_cookies() {
    let c = common::city();
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["localhost".to_string()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let files = gusu_web::TlsFiles {
        cert: c.dir.path().join("cert.pem"),
        key: c.dir.path().join("key.pem"),
    };
    std::fs::write(&files.cert, cert.pem()).unwrap();
    std::fs::write(&files.key, key.serialize_pem()).unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let config = gusu_web::WebConfig::new(c.dir.path().join("g.db"));
    let served = files.clone();
    std::thread::spawn(move || gusu_web::serve_on(config, listener, Some(&served)));

    let body = format!(
        r#"{{"username":"analyst","password":"{}"}}"#,
        common::PASSWORD
    );
    let response = https(
        port,
        &cert,
        &format!(
            "POST /api/v1/session HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    )
    .await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    let cookie = response
        .lines()
        .find(|l| {
            l.to_ascii_lowercase()
                .starts_with("set-cookie: gusu_session=")
        })
        .expect("a session cookie");
    assert!(
        cookie.contains("; Secure") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
}

#[test]
fn a_certificate_that_cannot_be_read_is_a_clear_error() {
    let c = common::city();
    let files = gusu_web::TlsFiles {
        cert: c.dir.path().join("missing.pem"),
        key: c.dir.path().join("missing-key.pem"),
    };
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let config = gusu_web::WebConfig::new(c.dir.path().join("g.db"));
    let err = gusu_web::serve_on(config, listener, Some(&files)).unwrap_err();
    assert!(err.message.contains("missing.pem"), "{}", err.message);
}
