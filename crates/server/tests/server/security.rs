//! API keys, the admin key, Host and Origin checks and signed file URLs.

use ddiffusion_server::files::Signer;
use protocol::{Domain, TaskStatus};
use serde_json::Value;

use crate::harness::{raw_get, Server, ADMIN_KEY, LONG};

#[tokio::test]
async fn domain_routes_need_a_valid_key() {
    let server = Server::start("");
    let http = server.http();
    let no_key = http.get(server.url("/api/images/models")).send().await.unwrap();
    assert_eq!(no_key.status(), 403);
    let wrong = http
        .get(server.url("/api/images/models"))
        .header("authorization", "dd_nope_nope")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 403);
    // Without the `Bearer ` prefix the key works too.
    let plain = http
        .get(server.url("/api/images/models"))
        .header("authorization", &server.key)
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), 200);
}

#[tokio::test]
async fn admin_routes_manage_keys() {
    let server = Server::start("");
    let http = server.http();
    let admin = |request: reqwest::RequestBuilder| request.bearer_auth(ADMIN_KEY);

    let wrong = http
        .get(server.url("/api/admin/keys"))
        .bearer_auth("x".repeat(40))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 403);
    let user_key = http
        .get(server.url("/api/admin/keys"))
        .bearer_auth(&server.key)
        .send()
        .await
        .unwrap();
    assert_eq!(user_key.status(), 403);

    let created: Value = admin(http.post(server.url("/api/admin/keys?name=Houdini farm")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = created["api_key"].as_str().unwrap().to_owned();
    assert_eq!(created["name"], "Houdini farm");
    let duplicate = admin(http.post(server.url("/api/admin/keys?name=Houdini farm")))
        .send()
        .await
        .unwrap();
    assert_eq!(duplicate.status(), 400);
    let invalid = admin(http.post(server.url("/api/admin/keys?name=x")))
        .send()
        .await
        .unwrap();
    assert_eq!(invalid.status(), 422);

    let listed: Value = admin(http.get(server.url("/api/admin/keys")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 2);
    assert!(!listed.to_string().contains(&key), "the list must not contain secrets");
    let key_id = key.split('_').nth(1).unwrap();

    let works = http
        .get(server.url("/api/jobs"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(works.status(), 200);
    let deleted = admin(http.delete(server.url(&format!("/api/admin/keys/{key_id}"))))
        .send()
        .await
        .unwrap();
    assert_eq!(
        deleted.json::<Value>().await.unwrap(),
        serde_json::json!({"deleted": true})
    );
    let revoked = http
        .get(server.url("/api/jobs"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 403);
    let missing = admin(http.delete(server.url(&format!("/api/admin/keys/{key_id}"))))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn foreign_host_and_origin_are_rejected() {
    let server = Server::start("");
    let http = server.http();
    let rebinding = http
        .get(server.url("/health"))
        .header("host", "attacker.example")
        .send()
        .await
        .unwrap();
    assert_eq!(rebinding.status(), 403);
    assert!(rebinding.text().await.unwrap().contains("allowed_hosts"));

    let drive_by = http
        .post(server.url("/api/images"))
        .bearer_auth(&server.key)
        .header("origin", "https://attacker.example")
        .json(&serde_json::json!({"model": "dev-local"}))
        .send()
        .await
        .unwrap();
    assert_eq!(drive_by.status(), 403);
    assert_eq!(server.client().jobs(&Default::default()).await.unwrap().total, 0);

    let same_origin = http
        .get(server.url("/health"))
        .header("origin", &server.base)
        .send()
        .await
        .unwrap();
    assert_eq!(same_origin.status(), 200);
    let localhost = http
        .get(server.url("/health"))
        .header("host", format!("localhost:{}", server.port()))
        .send()
        .await
        .unwrap();
    assert_eq!(localhost.status(), 200);
}

#[tokio::test]
async fn configured_cors_origin_is_allowed() {
    let server = Server::start("cors_origins = [\"http://tools.studio:8080\"]\nallowed_hosts = [\"gpu-box\"]\n");
    let http = server.http();
    let preflight = http
        .request(reqwest::Method::OPTIONS, server.url("/api/images"))
        .header("origin", "http://tools.studio:8080")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(
        preflight.headers()["access-control-allow-origin"],
        "http://tools.studio:8080"
    );
    let named = http
        .get(server.url("/health"))
        .header("host", "gpu-box:5000")
        .send()
        .await
        .unwrap();
    assert_eq!(named.status(), 200);
}

#[tokio::test]
async fn signed_urls_reject_tampering() {
    let server = Server::start("");
    let id = server.submit_image("dev-local", "steps=1").await;
    let job = server.wait_finished(Domain::Images, id, LONG).await;
    assert_eq!(job.status, TaskStatus::Success);
    let url = job.output_urls()[0].clone();
    assert_eq!(reqwest::get(&url).await.unwrap().status(), 200);

    let tampered = format!("{}0", &url[..url.len() - 1]);
    assert_eq!(reqwest::get(&tampered).await.unwrap().status(), 403);
    let unsigned = url.split('?').next().unwrap().to_owned();
    assert_eq!(reqwest::get(&unsigned).await.unwrap().status(), 403);

    let signer = Signer::from_admin_key(ADMIN_KEY, 3600);
    let path = format!("images/dev-local/{id}-0.png");
    let expired = signer.url_expiring(&server.base, &path, chrono::Utc::now().timestamp() - 10);
    assert_eq!(reqwest::get(&expired).await.unwrap().status(), 403);
    let missing = signer.url(
        &server.base,
        &format!("images/dev-local/{}-0.png", uuid::Uuid::new_v4()),
    );
    assert_eq!(reqwest::get(&missing).await.unwrap().status(), 404);

    // Traversal and absolute paths fail before the signature is even checked.
    let query = |path: &str| signer.url("", path).split_once('?').unwrap().1.to_owned();
    assert_eq!(
        raw_get(
            &server.base,
            &format!(
                "/api/files/images/../../ddiffusion.db?{}",
                query("images/../../ddiffusion.db")
            )
        )
        .await,
        403
    );
    assert_eq!(
        raw_get(
            &server.base,
            &format!("/api/files//etc/passwd?{}", query("/etc/passwd"))
        )
        .await,
        403
    );
    assert_eq!(
        raw_get(&server.base, &format!("/api/files/{path}?{}", query(&path))).await,
        200
    );
}
