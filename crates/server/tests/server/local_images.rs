//! Local Stable Diffusion models through the server, on tiny random-weight
//! fixtures written into a temporary Hugging Face cache, with the Hub offline.

use std::process::Command;
use std::time::Duration;

use protocol::{Domain, TaskStatus};
use serde_json::json;

use crate::harness::{binary, Server};

const SLOW: Duration = Duration::from_secs(240);

/// Starts a server whose Hugging Face cache contains the fixtures, if `with_fixtures`.
fn server(with_fixtures: bool) -> (tempfile::TempDir, Server) {
    let hf_home = tempfile::tempdir().unwrap();
    let home = hf_home.path().to_str().unwrap().to_owned();
    if with_fixtures {
        let status = Command::new(binary())
            .args(["dev", "fixtures"])
            .env("HF_HOME", &home)
            .env_remove("HF_HUB_CACHE")
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(status.success());
    }
    let server = Server::start_with_env("", &[("HF_HOME", &home), ("HF_HUB_OFFLINE", "1")]);
    (hf_home, server)
}

async fn submit(server: &Server, body: serde_json::Value) -> uuid::Uuid {
    let (status, created) = server.post("/api/images", &body).await;
    assert_eq!(status, 200, "{created}");
    created["id"].as_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn sd15_text_to_image_end_to_end() {
    let (_hf, server) = server(true);
    let (_, models) = server.get("/api/images/models").await;
    let info = &models["models"]["sd-1.5"];
    assert_eq!(info["text_to_image"], true, "{models}");
    assert_eq!(info["provider"], "local");

    let request = json!({"model": "sd-1.5", "prompt": "a lighthouse   at dusk", "width": 40, "height": 24, "steps": 2, "seed": 5});
    let id = submit(&server, request.clone()).await;
    let job = server.wait_finished(Domain::Images, id, SLOW).await;
    assert_eq!(job.status, TaskStatus::Success, "{job:?}\n{}", server.log());
    for expected in [
        "Loading pipeline sd-1.5 ...",
        "Context created sd-1.5, 40x24, text-to-image",
        "Inference step 2/2 (100%)",
    ] {
        assert!(
            job.logs.iter().any(|line| line == expected),
            "missing {expected:?} in {:?}",
            job.logs
        );
    }
    assert!(
        job.logs.iter().any(|line| line.starts_with("Pipeline loaded in")),
        "{:?}",
        job.logs
    );

    let bytes = first_output(&job).await;
    let image = image::load_from_memory(&bytes).unwrap().to_rgb8();
    assert_eq!((image.width(), image.height()), (40, 24));
    let parameters = images::output::read_parameters(&bytes).expect("the PNG carries its parameters");
    assert_eq!(parameters["prompt"], "a lighthouse at dusk");
    assert_eq!(parameters["seed"], 5);
    assert_eq!(parameters["steps"], 2);

    // The same request gives the same pixels; the second job reuses the loaded pipeline.
    let again = server
        .wait_finished(Domain::Images, submit(&server, request).await, SLOW)
        .await;
    assert!(
        !again.logs.iter().any(|line| line.starts_with("Loading pipeline")),
        "{:?}",
        again.logs
    );
    let second = first_output(&again).await;
    assert_eq!(image::load_from_memory(&second).unwrap().to_rgb8(), image);
}

#[tokio::test]
async fn sd15_odd_size_is_resized_back() {
    let (_hf, server) = server(true);
    let id = submit(
        &server,
        json!({"model": "sd-1.5", "prompt": "fog", "width": 13, "height": 9, "steps": 1, "scheduler": "euler_a"}),
    )
    .await;
    let job = server.wait_finished(Domain::Images, id, SLOW).await;
    assert_eq!(job.status, TaskStatus::Success, "{job:?}");
    assert!(
        job.logs.iter().any(|line| line == "Computed at 16x8, resized to 13x9"),
        "{:?}",
        job.logs
    );
    let bytes = first_output(&job).await;
    let image = image::load_from_memory(&bytes).unwrap();
    assert_eq!((image.width(), image.height()), (13, 9));
}

#[tokio::test]
async fn sd15_missing_weights_fail_clearly_offline() {
    let (_hf, server) = server(false);
    let body = json!({"model": "sd-1.5", "prompt": "x", "width": 8, "height": 8});
    let (status, answer) = server.post("/api/images", &body).await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(answer["detail"][0]["loc"], json!(["body", "model"]));
    let message = answer["detail"][0]["msg"].as_str().unwrap();
    assert!(
        message.contains("model sd-1.5 is not downloaded; run `ddiffusion models pull sd-1.5`"),
        "{message}"
    );
    assert!(message.contains("HF_HUB_OFFLINE=1"), "{message}");
    let (_, jobs) = server.get("/api/jobs").await;
    assert_eq!(jobs["total"], 0, "nothing is queued");

    // A download asked for through the API is refused at once instead of failing later.
    let (status, answer) = server.post("/api/models/sd-1.5/pull", &json!({})).await;
    assert_eq!(status, 409, "{answer}");
    let message = answer["detail"].as_str().unwrap_or_default();
    assert!(message.contains("HF_HUB_OFFLINE"), "{message}");
    assert!(message.contains("unset HF_HUB_OFFLINE"), "{message}");
}

#[tokio::test]
async fn sd15_rejects_what_it_cannot_do() {
    let (_hf, server) = server(true);
    let plate = crate::harness::base64(&crate::harness::png(8, 8));
    let (_, models) = server.get("/api/images/models").await;
    assert_eq!(models["models"]["sd-1.5"]["image_to_image"], true);
    assert_eq!(models["models"]["sd-1.5"]["inpainting"], true);
    assert_eq!(models["models"]["sd-1.5"]["references"], false);
    let cases = [
        (json!({"model": "sd-1.5", "mask": plate}), json!(["body", "mask"])),
        (
            json!({"model": "sd-1.5", "scheduler": "plms"}),
            json!(["body", "scheduler"]),
        ),
        (json!({"model": "sd-1.5", "steps": 0}), json!(["body", "steps"])),
        (
            json!({"model": "sd-1.5", "width": 4096, "height": 4096}),
            json!(["body", "width"]),
        ),
    ];
    for (body, loc) in cases {
        let (status, answer) = server.post("/api/images", &body).await;
        assert_eq!(status, 422, "{body}: {answer}");
        assert_eq!(answer["detail"][0]["loc"], loc, "{answer}");
    }
}

/// Downloads the first output file of a finished job.
async fn first_output(job: &protocol::jobs::JobResponse) -> Vec<u8> {
    let response = reqwest::get(&job.output_urls()[0]).await.unwrap();
    assert_eq!(response.status(), 200);
    response.bytes().await.unwrap().to_vec()
}

fn asset(name: &str) -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/assets/");
    crate::harness::base64(&std::fs::read(format!("{path}{name}")).unwrap())
}

#[tokio::test]
async fn sdxl_image_to_image_keeps_plate_size() {
    let (_hf, server) = server(true);
    let body = json!({
        "model": "sd-xl", "prompt": "night, rain", "image": asset("color_v001.jpeg"),
        "strength": 0.4, "steps": 3, "guidance_scale": 1.0, "seed": 11
    });
    let job = server
        .wait_finished(Domain::Images, submit(&server, body).await, SLOW)
        .await;
    assert_eq!(job.status, TaskStatus::Success, "{job:?}");
    assert!(
        job.logs
            .iter()
            .any(|line| line == "Context created sd-xl, 1120x455, image-to-image"),
        "{:?}",
        job.logs
    );
    assert!(
        job.logs.iter().any(|line| line == "Inference step 1/1 (100%)"),
        "strength 0.4 of 3 steps runs 1: {:?}",
        job.logs
    );
    let bytes = first_output(&job).await;
    let image = image::load_from_memory(&bytes).unwrap();
    assert_eq!(
        (image.width(), image.height()),
        (1120, 455),
        "the plate's size wins over width and height"
    );
    assert_eq!(
        images::output::read_parameters(&bytes).unwrap()["mode"],
        "image-to-image"
    );
}

#[tokio::test]
async fn sdxl_inpainting_with_mask() {
    let (_hf, server) = server(true);
    let body = json!({
        "model": "sd-xl", "prompt": "a tiger on a bench", "image": asset("inpaint.png"), "mask": asset("inpaint_mask.png"),
        "strength": 1.0, "steps": 2, "guidance_scale": 4.0
    });
    let job = server
        .wait_finished(Domain::Images, submit(&server, body).await, SLOW)
        .await;
    assert_eq!(job.status, TaskStatus::Success, "{job:?}");
    assert!(
        job.logs
            .iter()
            .any(|line| line == "Context created sd-xl, 512x512, inpainting"),
        "{:?}",
        job.logs
    );
    let bytes = first_output(&job).await;
    let image = image::load_from_memory(&bytes).unwrap();
    assert_eq!((image.width(), image.height()), (512, 512));
    let parameters = images::output::read_parameters(&bytes).unwrap();
    assert_eq!(parameters["model"], "sd-xl");
    assert_eq!(parameters["mode"], "inpainting");
    assert_eq!(parameters["guidance_scale"], 4.0);
}

/// The turbo models run with their catalogue defaults: one step, no guidance.
#[tokio::test]
async fn turbo_models_use_catalogue_defaults() {
    let (_hf, server) = server(true);
    for model in ["sdxl-turbo", "sd-turbo"] {
        let id = submit(
            &server,
            json!({"model": model, "prompt": "a fox", "width": 24, "height": 24}),
        )
        .await;
        let job = server.wait_finished(Domain::Images, id, SLOW).await;
        assert_eq!(job.status, TaskStatus::Success, "{model}: {job:?}");
        assert!(
            job.logs.iter().any(|line| line == "Inference step 1/1 (100%)"),
            "{model}: {:?}",
            job.logs
        );
        let bytes = first_output(&job).await;
        let parameters = images::output::read_parameters(&bytes).unwrap();
        assert_eq!(parameters["guidance_scale"], 0.0, "{model}");
        assert_eq!(parameters["scheduler"], "euler_a", "{model}");
    }
}

#[tokio::test]
async fn cut_off_inputs_are_rejected_at_submission() {
    let (_hf, server) = server(true);
    // The header is intact but the pixel data is cut off.
    let mut truncated = crate::harness::png(64, 64);
    truncated.truncate(truncated.len() - 40);
    let corrupt = crate::harness::base64(&truncated);
    let plate = crate::harness::base64(&crate::harness::png(16, 16));
    let cases = [
        (
            json!({"model": "sd-1.5", "image": corrupt, "steps": 1}),
            json!(["body", "image"]),
        ),
        (
            json!({"model": "dev-local", "image": plate, "references": [{"image": corrupt}]}),
            json!(["body", "references", 0, "image"]),
        ),
        (
            json!({"model": "sd-1.5", "image": plate, "mask": corrupt}),
            json!(["body", "mask"]),
        ),
    ];
    for (body, loc) in cases {
        let (status, answer) = server.post("/api/images", &body).await;
        assert_eq!(status, 422, "{answer}");
        let error = answer["detail"]
            .as_array()
            .unwrap()
            .iter()
            .find(|error| error["loc"] == loc)
            .unwrap_or_else(|| panic!("no error at {loc}: {answer}"));
        let message = error["msg"].as_str().unwrap();
        assert!(message.contains("damaged or cut off"), "{message}");
        assert!(!message.contains("storage"), "no server paths in messages: {message}");
    }
    let (status, answer) = server
        .post("/api/texts", &json!({"model": "dev-local", "images": [corrupt]}))
        .await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(answer["detail"][0]["loc"], json!(["body", "images", 0]));

    // The worker keeps serving.
    let id = submit(
        &server,
        json!({"model": "sd-1.5", "width": 16, "height": 16, "steps": 1}),
    )
    .await;
    assert_eq!(
        server.wait_finished(Domain::Images, id, SLOW).await.status,
        TaskStatus::Success
    );
}

#[tokio::test]
async fn sd21_text_to_image_end_to_end() {
    let (_hf, server) = server(true);
    let id = submit(
        &server,
        json!({"model": "sd-2.1", "prompt": "a harbour", "width": 32, "height": 32, "steps": 2, "scheduler": "euler"}),
    )
    .await;
    let job = server.wait_finished(Domain::Images, id, SLOW).await;
    assert_eq!(job.status, TaskStatus::Success, "{job:?}");
    let bytes = first_output(&job).await;
    let parameters = images::output::read_parameters(&bytes).unwrap();
    assert_eq!(parameters["model"], "sd-2.1");
    assert_eq!(parameters["scheduler"], "euler");
}

#[tokio::test]
async fn sd15_plate_checks_at_submission() {
    let (_hf, server) = server(true);
    let huge = image::RgbImage::new(4097, 8);
    let mut bytes = Vec::new();
    huge.write_to(&mut std::io::Cursor::new(&mut bytes), image::ImageFormat::Png)
        .unwrap();
    let cases = [
        (
            json!({"model": "sd-1.5", "image": crate::harness::base64(&bytes)}),
            "over the limit of 4096 pixels a side",
        ),
        (
            json!({"model": "sd-1.5", "image": crate::harness::base64(b"plain text, not an image")}),
            "not a readable image",
        ),
    ];
    for (body, expected) in cases {
        let (status, answer) = server.post("/api/images", &body).await;
        assert_eq!(status, 422, "{answer}");
        assert_eq!(answer["detail"][0]["loc"], json!(["body", "image"]));
        assert!(
            answer["detail"][0]["msg"].as_str().unwrap().contains(expected),
            "{answer}"
        );
    }
    let inputs = server.data_dir().join("storage/inputs");
    assert!(
        !inputs.exists() || std::fs::read_dir(inputs).unwrap().count() == 0,
        "rejected inputs are deleted"
    );
}

#[tokio::test]
async fn sdxl_one_pixel_plate_and_cli_submit() {
    let (hf, server) = server(true);
    let id = submit(
        &server,
        json!({"model": "sd-xl", "image": crate::harness::base64(&crate::harness::png(1, 1)), "steps": 2}),
    )
    .await;
    let job = server.wait_finished(Domain::Images, id, SLOW).await;
    assert_eq!(job.status, TaskStatus::Success, "{job:?}");
    let bytes = first_output(&job).await;
    let image = image::load_from_memory(&bytes).unwrap();
    assert_eq!((image.width(), image.height()), (1, 1));

    let out = tempfile::tempdir().unwrap();
    let plate = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/assets/inpaint.png");
    let mask = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/assets/inpaint_mask.png");
    let output = tokio::process::Command::new(binary())
        .args([
            "submit", "images", "--model", "sd-xl", "--prompt", "a tiger", "--image", plate, "--mask", mask,
        ])
        .args([
            "--strength",
            "1.0",
            "--steps",
            "2",
            "--scheduler",
            "dpmpp_2m_karras",
            "--out",
        ])
        .arg(out.path())
        .env("DDIFFUSION_API_ADDRESS", &server.base)
        .env("DDIFFUSION_API_KEY", &server.key)
        .env("HF_HOME", hf.path())
        .output()
        .await
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let written = std::path::PathBuf::from(String::from_utf8(output.stdout).unwrap().trim());
    let image = image::open(&written).unwrap();
    assert_eq!((image.width(), image.height()), (512, 512));
    let parameters = images::output::read_parameters(&std::fs::read(&written).unwrap()).unwrap();
    assert_eq!(parameters["model"], "sd-xl");
    assert_eq!(parameters["mode"], "inpainting");
    assert_eq!(parameters["steps"], 2);
    assert_eq!(parameters["scheduler"], "dpmpp_2m_karras");
}

#[tokio::test]
async fn models_verify_reports_each_model() {
    let hf_home = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let ddiffusion = |args: &[&str]| {
        Command::new(binary())
            .args(args)
            .env("HF_HOME", hf_home.path())
            .env_remove("HF_HUB_CACHE")
            .env("HF_HUB_OFFLINE", "1")
            .env("DDIFFUSION_DATA_DIR", data.path())
            .env("DDIFFUSION_DEVICE", "cpu")
            .output()
            .unwrap()
    };
    assert!(ddiffusion(&["dev", "fixtures", "sd-1.5"]).status.success());

    let output = ddiffusion(&["models", "verify"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(stdout.contains("sd-1.5         ok: loaded in"), "{stdout}");
    assert!(stdout.contains("sd-xl          skipped: not downloaded"), "{stdout}");

    // Bytes 0xff read as NaN in float32, as damaged weights would.
    let snapshot = hf_home
        .path()
        .join("hub/models--stable-diffusion-v1-5--stable-diffusion-v1-5/snapshots")
        .join(images::fixtures::FIXTURE_COMMIT);
    let unet = snapshot.join("unet/diffusion_pytorch_model.safetensors");
    let mut bytes = std::fs::read(&unet).unwrap();
    let length = bytes.len();
    bytes[length - 4096..].fill(0xff);
    std::fs::write(&unet, bytes).unwrap();
    let output = ddiffusion(&["models", "verify", "sd-1.5"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stdout.contains("sd-1.5         FAILED: the generated image has NaN"),
        "{stdout}"
    );
    assert!(stderr.contains("sd-1.5 failed verification"), "{stderr}");
}
