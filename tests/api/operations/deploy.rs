//! The container image: built and started when a Docker engine answers (`docker info`);
//! otherwise README "Deploying" lists the same check to run by hand.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

fn docker(args: &[&str]) -> Option<String> {
    let out = Command::new("docker").args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

#[test]
fn the_image_runs_as_non_root_with_a_health_check_and_a_data_volume() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dockerfile = std::fs::read_to_string(root.join("Dockerfile")).unwrap();
    for needed in [
        "USER 65532:65532",
        "HEALTHCHECK",
        "\"healthcheck\"]",
        "VOLUME [\"/data\"]",
        "PRICEBOOK_DATA_DIR=/data",
        "PRICEBOOK_BIND=0.0.0.0:8080",
        "cargo build --release --locked",
    ] {
        assert!(dockerfile.contains(needed), "the Dockerfile lacks {needed}");
    }
    let compose = std::fs::read_to_string(root.join("compose.yaml")).unwrap();
    for needed in [
        "postgres:",
        "app1:",
        "app2:",
        "--to app1:8080 --to app2:8080",
    ] {
        assert!(compose.contains(needed), "compose.yaml lacks {needed}");
    }
}

#[tokio::test]
async fn the_image_builds_and_serves_when_docker_is_present() {
    if docker(&["info"]).is_none() {
        eprintln!(
            "skipped: no Docker engine answers `docker info` (README \"Deploying\" has the manual check)"
        );
        return;
    }
    let root = env!("CARGO_MANIFEST_DIR");
    let tag = "pricebook-sync:test";
    assert!(
        docker(&["build", "-t", tag, root]).is_some(),
        "docker build failed"
    );
    let user = docker(&["image", "inspect", "-f", "{{.Config.User}}", tag]).unwrap();
    assert_eq!(user, "65532:65532", "runs as non-root");
    let id = docker(&[
        "run",
        "-d",
        "--rm",
        "-p",
        "127.0.0.1::8080",
        "-e",
        "PRICEBOOK_ADMIN_PASSWORD=container-check-1",
        tag,
    ])
    .expect("docker run");
    let port = docker(&["port", &id, "8080/tcp"]).unwrap();
    let base = format!("http://{}", port.lines().next().unwrap());
    let client = reqwest::Client::new();
    let mut ready = false;
    for _ in 0..120 {
        if client
            .get(format!("{base}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let health = docker(&["exec", &id, "/usr/local/bin/pricebook-sync", "healthcheck"]);
    docker(&["rm", "-f", &id]);
    assert!(ready, "the container never became ready");
    assert!(
        health.is_some(),
        "the health check command fails inside the image"
    );
}

#[test]
fn the_shipped_systemd_unit_is_the_one_the_readme_shows() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let unit = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/deploy/pricebook-sync.service"
    ))
    .unwrap();
    let start = readme
        .find("deploy/pricebook-sync.service")
        .expect("README names the unit");
    let block = &readme[start..];
    let block = &block[block.find("```ini\n").unwrap() + 7..];
    let block = &block[..block.find("```").unwrap()];
    assert_eq!(block, unit);
    assert!(unit.contains("ExecStart=/usr/local/bin/pricebook-sync serve"));
}
