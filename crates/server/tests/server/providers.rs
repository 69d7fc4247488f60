//! External models against a stand-in for OpenAI and Replicate on 127.0.0.1.
//!
//! The stand-in responds with the request and response shapes of the
//! providers' public API documentation: OpenAI's `b64_json` images, Responses
//! output items and video jobs, Replicate's predictions with their states,
//! logs and output URLs (served by the stand-in too). Markers in a prompt
//! make it fail: `[429]` rate-limits the first create with `Retry-After`,
//! `[500]` answers 500 twice, `[400]` rejects the input, `[badjson]` answers
//! malformed JSON, `[hang]` answers after 2 s, `[fail]` fails the prediction, `[empty]` succeeds without
//! output, `[expired]` gives an output URL that is gone, and `[slow]` keeps
//! the prediction processing until the test releases it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use protocol::{Domain, TaskStatus};
use serde_json::{json, Value};

use crate::harness::{png, wait_for, Server};

const OPENAI_KEY: &str = "sk-test-openai";
const REPLICATE_TOKEN: &str = "r8_test_replicate";
const SLOW: Duration = Duration::from_secs(60);

/// Bytes that start like an MP4 file.
fn mp4() -> Vec<u8> {
    let mut bytes = vec![0, 0, 0, 0x18];
    bytes.extend_from_slice(b"ftypisom\0\0\x02\0isomiso2mp41");
    bytes.extend(std::iter::repeat_n(7u8, 64));
    bytes
}

/// A request the stand-in received.
#[derive(Debug, Clone)]
struct Received {
    path: String,
    body: Value,
}

#[derive(Debug, Clone)]
struct Prediction {
    model: String,
    prompt: String,
    polls: u32,
    status: String,
    video: bool,
}

#[derive(Default)]
struct MockState {
    received: Vec<Received>,
    predictions: HashMap<String, Prediction>,
    attempts: HashMap<String, u32>,
    released: bool,
    video_polls: u32,
}

#[derive(Clone)]
struct Mock {
    state: Arc<Mutex<MockState>>,
    base: String,
}

impl Mock {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let mock = Self {
            state: Arc::default(),
            base,
        };
        let app = Router::new()
            .route(
                "/replicate/v1/models/{owner}/{name}/predictions",
                post(replicate_create),
            )
            .route("/replicate/v1/predictions/{id}", get(replicate_get))
            .route("/replicate/v1/predictions/{id}/cancel", post(replicate_cancel))
            .route("/openai/v1/images/generations", post(openai_generate))
            .route("/openai/v1/images/edits", post(openai_edit))
            .route("/openai/v1/responses", post(openai_respond))
            .route("/openai/v1/videos", post(openai_video_create))
            .route(
                "/openai/v1/videos/{id}",
                get(openai_video_get).delete(openai_video_delete),
            )
            .route("/openai/v1/videos/{id}/content", get(openai_video_content))
            .route("/files/{name}", get(file))
            .with_state(mock.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        mock
    }

    fn env(&self) -> Vec<(String, String)> {
        vec![
            ("DDIFFUSION_OPENAI_BASE_URL".into(), format!("{}/openai/v1", self.base)),
            (
                "DDIFFUSION_REPLICATE_BASE_URL".into(),
                format!("{}/replicate/v1", self.base),
            ),
            ("OPENAI_API_KEY".into(), OPENAI_KEY.into()),
            ("REPLICATE_API_TOKEN".into(), REPLICATE_TOKEN.into()),
            ("DDIFFUSION_PROVIDER_POLL_MS".into(), "50".into()),
            ("DDIFFUSION_PROVIDER_RETRY_MS".into(), "50".into()),
        ]
    }

    fn record(&self, path: &str, body: Value) {
        self.state.lock().unwrap().received.push(Received {
            path: path.to_owned(),
            body,
        });
    }

    fn received(&self, path_part: &str) -> Vec<Received> {
        let state = self.state.lock().unwrap();
        state
            .received
            .iter()
            .filter(|received| received.path.contains(path_part))
            .cloned()
            .collect()
    }

    fn release(&self) {
        self.state.lock().unwrap().released = true;
    }

    /// Counts one attempt of `key` and returns the count.
    fn attempt(&self, key: &str) -> u32 {
        let mut state = self.state.lock().unwrap();
        let count = state.attempts.entry(key.to_owned()).or_default();
        *count += 1;
        *count
    }
}

fn authorized(headers: &HeaderMap, secret: &str) -> bool {
    headers.get("authorization").and_then(|value| value.to_str().ok()) == Some(&format!("Bearer {secret}"))
}

fn unauthorized() -> Response {
    (StatusCode::UNAUTHORIZED, Json(json!({"detail": "Invalid token."}))).into_response()
}

fn prediction_json(mock: &Mock, id: &str, prediction: &Prediction) -> Value {
    let extension = if prediction.video { "mp4" } else { "png" };
    let output = match prediction.status.as_str() {
        "succeeded" if prediction.prompt.contains("[empty]") => Value::Null,
        "succeeded" if prediction.prompt.contains("[expired]") => json!(format!("{}/files/expired", mock.base)),
        "succeeded" => json!([format!("{}/files/{id}.{extension}", mock.base)]),
        _ => Value::Null,
    };
    let logs: String = (1..=prediction.polls.min(3))
        .map(|step| format!("step {step}\n"))
        .collect();
    let error = if prediction.status == "failed" {
        json!("NSFW content detected in the output")
    } else {
        Value::Null
    };
    json!({
        "id": id, "model": prediction.model, "version": "hidden", "status": prediction.status,
        "input": {}, "output": output, "error": error, "logs": logs,
        "created_at": "2026-12-04T10:00:00Z",
        "urls": {"get": format!("{}/replicate/v1/predictions/{id}", mock.base),
                 "cancel": format!("{}/replicate/v1/predictions/{id}/cancel", mock.base)}
    })
}

async fn replicate_create(
    State(mock): State<Mock>,
    Path((owner, name)): Path<(String, String)>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if !authorized(&headers, REPLICATE_TOKEN) {
        return unauthorized();
    }
    let model = format!("{owner}/{name}");
    let prompt = body
        .pointer("/input/prompt")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    mock.record(&format!("/replicate/models/{model}"), body.clone());
    let attempt = mock.attempt(&format!("create {prompt}"));
    if prompt.contains("[hang]") {
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    if prompt.contains("[429]") && attempt == 1 {
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", "1")],
            Json(json!({"detail": "Request was throttled."})),
        )
            .into_response();
    }
    if prompt.contains("[500]") && attempt <= 2 {
        return (StatusCode::INTERNAL_SERVER_ERROR, "upstream error").into_response();
    }
    if prompt.contains("[400]") {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({"title": "Input validation failed", "detail": "- aspect_ratio: must be one of 16:9, 9:16"})),
        )
            .into_response();
    }
    if prompt.contains("[badjson]") {
        return (StatusCode::CREATED, "{\"id\": \"p-broken\", \"status\": ").into_response();
    }
    let video = [
        "runwayml/gen4",
        "runwayml/upscale",
        "seedance",
        "kling",
        "veo",
        "hailuo",
    ]
    .iter()
    .any(|part| model.contains(part))
        && !model.contains("gen4-image");
    let prediction = Prediction {
        model,
        prompt,
        polls: 0,
        status: "starting".into(),
        video,
    };
    let mut state = mock.state.lock().unwrap();
    let id = format!("p{}", state.predictions.len() + 1);
    state.predictions.insert(id.clone(), prediction.clone());
    drop(state);
    (StatusCode::CREATED, Json(prediction_json(&mock, &id, &prediction))).into_response()
}

async fn replicate_get(State(mock): State<Mock>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    if !authorized(&headers, REPLICATE_TOKEN) {
        return unauthorized();
    }
    let mut state = mock.state.lock().unwrap();
    let released = state.released;
    let Some(prediction) = state.predictions.get_mut(&id) else {
        return (StatusCode::NOT_FOUND, Json(json!({"detail": "Not found."}))).into_response();
    };
    if prediction.status == "starting" || prediction.status == "processing" {
        prediction.polls += 1;
        let held = prediction.prompt.contains("[slow]") && !released;
        prediction.status = if held || prediction.polls < 2 {
            "processing".into()
        } else if prediction.prompt.contains("[fail]") {
            "failed".into()
        } else {
            "succeeded".into()
        };
    }
    let prediction = prediction.clone();
    drop(state);
    Json(prediction_json(&mock, &id, &prediction)).into_response()
}

async fn replicate_cancel(State(mock): State<Mock>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    if !authorized(&headers, REPLICATE_TOKEN) {
        return unauthorized();
    }
    mock.record(&format!("/replicate/cancel/{id}"), Value::Null);
    let mut state = mock.state.lock().unwrap();
    if let Some(prediction) = state.predictions.get_mut(&id) {
        prediction.status = "canceled".into();
    }
    StatusCode::OK.into_response()
}

fn images_answer() -> Value {
    json!({"created": 1764842400, "data": [{"b64_json": base64::engine::general_purpose::STANDARD.encode(png(48, 32))}]})
}

async fn openai_generate(State(mock): State<Mock>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    if !authorized(&headers, OPENAI_KEY) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": {"message": "Incorrect API key provided"}})),
        )
            .into_response();
    }
    mock.record("/openai/images/generations", body);
    Json(images_answer()).into_response()
}

/// Records a multipart form as `{"fields": {...}, "files": {"name": count}}`,
/// checking that every file is a readable PNG.
async fn read_form(mut form: Multipart) -> Value {
    let mut fields = serde_json::Map::new();
    let mut files: HashMap<String, u32> = HashMap::new();
    while let Some(field) = form.next_field().await.unwrap() {
        let name = field.name().unwrap_or_default().to_owned();
        if field.file_name().is_some() {
            let bytes = field.bytes().await.unwrap();
            assert!(image::load_from_memory(&bytes).is_ok(), "file {name} is not an image");
            *files.entry(name).or_default() += 1;
        } else {
            fields.insert(name, json!(field.text().await.unwrap()));
        }
    }
    json!({"fields": fields, "files": files})
}

async fn openai_edit(State(mock): State<Mock>, headers: HeaderMap, form: Multipart) -> Response {
    if !authorized(&headers, OPENAI_KEY) {
        return unauthorized();
    }
    let body = read_form(form).await;
    mock.record("/openai/images/edits", body);
    Json(images_answer()).into_response()
}

async fn openai_respond(State(mock): State<Mock>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    if !authorized(&headers, OPENAI_KEY) {
        return unauthorized();
    }
    mock.record("/openai/responses", body);
    Json(json!({
        "id": "resp_1", "object": "response", "status": "completed", "model": "gpt-4o-mini",
        "output": [
            {"type": "reasoning", "id": "rs_1", "summary": []},
            {"type": "message", "id": "msg_1", "role": "assistant", "status": "completed",
             "content": [{"type": "output_text", "text": "A calm harbour at dusk.", "annotations": []}]}
        ]
    }))
    .into_response()
}

async fn openai_video_create(State(mock): State<Mock>, headers: HeaderMap, form: Multipart) -> Response {
    if !authorized(&headers, OPENAI_KEY) {
        return unauthorized();
    }
    let body = read_form(form).await;
    mock.record("/openai/videos", body);
    Json(json!({"id": "video_1", "object": "video", "status": "queued", "progress": 0, "model": "sora-2-pro"}))
        .into_response()
}

async fn openai_video_get(State(mock): State<Mock>, headers: HeaderMap) -> Response {
    if !authorized(&headers, OPENAI_KEY) {
        return unauthorized();
    }
    let mut state = mock.state.lock().unwrap();
    state.video_polls += 1;
    let (status, progress) = if state.video_polls < 2 {
        ("in_progress", 50)
    } else {
        ("completed", 100)
    };
    Json(json!({"id": "video_1", "object": "video", "status": status, "progress": progress})).into_response()
}

async fn openai_video_delete(State(mock): State<Mock>, Path(id): Path<String>) -> Response {
    mock.record(&format!("/openai/videos/delete/{id}"), Value::Null);
    Json(json!({"id": id, "deleted": true})).into_response()
}

async fn openai_video_content(headers: HeaderMap) -> Response {
    if !authorized(&headers, OPENAI_KEY) {
        return unauthorized();
    }
    ([("content-type", "video/mp4")], mp4()).into_response()
}

async fn file(Path(name): Path<String>) -> Response {
    if name == "expired" {
        return (StatusCode::GONE, "This URL has expired").into_response();
    }
    if name.ends_with(".mp4") {
        return mp4().into_response();
    }
    // Providers often return WebP or JPEG, which the server converts to PNG.
    let mut jpeg = Vec::new();
    image::RgbImage::from_pixel(40, 30, image::Rgb([200, 100, 50]))
        .write_to(&mut std::io::Cursor::new(&mut jpeg), image::ImageFormat::Jpeg)
        .unwrap();
    jpeg.into_response()
}

fn server(mock: &Mock) -> Server {
    let env = mock.env();
    let pairs: Vec<(&str, &str)> = env
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect();
    Server::start_with_env("", &pairs)
}

async fn run(server: &Server, domain: Domain, body: Value) -> protocol::jobs::JobResponse {
    let path = format!("/api/{}", domain.as_str());
    let (status, created) = server.post(&path, &body).await;
    assert_eq!(status, 200, "{body}: {created}");
    let id = created["id"].as_str().unwrap().parse().unwrap();
    server.wait_finished(domain, id, SLOW).await
}

fn plate(width: u32, height: u32) -> String {
    crate::harness::base64(&png(width, height))
}

#[tokio::test]
async fn image_models_send_documented_requests() {
    let mock = Mock::start().await;
    let server = server(&mock);
    let landscape = plate(64, 36);
    let mask = plate(64, 36);
    // (request, Replicate model or OpenAI path, fields that must be in the input)
    let cases: Vec<(Value, &str, Value)> = vec![
        (
            json!({"model": "runway-gen-4", "prompt": "a tower", "width": 1280, "height": 720}),
            "runwayml/gen4-image",
            json!({"aspect_ratio": "16:9"}),
        ),
        (
            json!({"model": "runway-gen-4", "prompt": "a tower", "image": landscape, "references": [{"image": plate(500, 100)}]}),
            "runwayml/gen4-image-turbo",
            json!({"reference_tags": ["image1", "image2"]}),
        ),
        (
            json!({"model": "flux-1-pro", "prompt": "a tower", "width": 720, "height": 1280, "seed": 9}),
            "black-forest-labs/flux-1.1-pro",
            json!({"aspect_ratio": "9:16", "seed": 9, "raw": true, "safety_tolerance": 6, "output_format": "png"}),
        ),
        (
            json!({"model": "flux-1-pro", "prompt": "a tower", "image": landscape}),
            "black-forest-labs/flux-kontext-pro",
            json!({"aspect_ratio": "match_input_image"}),
        ),
        (
            json!({"model": "flux-1-pro", "prompt": "a tower", "image": landscape, "mask": mask}),
            "black-forest-labs/flux-fill-pro",
            json!({"output_format": "png"}),
        ),
        (
            json!({"model": "flux-2-pro", "prompt": "a tower", "width": 512, "height": 512}),
            "black-forest-labs/flux-2-pro",
            json!({"aspect_ratio": "1:1", "resolution": "2 MP", "safety_tolerance": 5, "input_images": []}),
        ),
        (
            json!({"model": "topazlabs-upscale", "image": landscape}),
            "topazlabs/image-upscale",
            json!({"upscale_factor": "4x", "face_enhancement": false}),
        ),
        (
            json!({"model": "gemini-2", "prompt": "a tower", "width": 1280, "height": 720}),
            "google/gemini-2.5-flash-image",
            json!({"aspect_ratio": "16:9", "output_format": "png"}),
        ),
        (
            json!({"model": "gemini-2", "prompt": "a tower", "image": landscape}),
            "google/nano-banana",
            json!({"output_format": "png"}),
        ),
        (
            json!({"model": "gemini-3", "prompt": "a tower", "width": 1280, "height": 720}),
            "google/nano-banana-pro",
            json!({"image_input": []}),
        ),
        (
            json!({"model": "seedream-4", "prompt": "a tower", "image": landscape}),
            "bytedance/seedream-4.5",
            json!({"size": "2K", "aspect_ratio": "match_input_image", "max_images": 1,
                                          "sequential_image_generation": "disabled", "enhance_prompt": false}),
        ),
    ];
    for (body, target, expected) in cases {
        let job = run(&server, Domain::Images, body.clone()).await;
        assert_eq!(job.status, TaskStatus::Success, "{body}: {job:?}");
        let received = mock.received(&format!("/replicate/models/{target}"));
        let input = &received
            .last()
            .unwrap_or_else(|| panic!("no call to {target} for {body}"))
            .body["input"];
        for (key, value) in expected.as_object().unwrap() {
            assert_eq!(&input[key], value, "{target}: field {key} in {input}");
        }
        assert!(
            job.logs.iter().any(|line| line == "[replicate] step 1"),
            "provider logs reach the job: {:?}",
            job.logs
        );
        let bytes = reqwest::get(&job.output_urls()[0])
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert!(bytes.starts_with(b"\x89PNG"), "{target}: outputs are PNG");
    }

    // flux-2-pro inpaints with the mask as the first image and an instruction.
    let job = run(
        &server,
        Domain::Images,
        json!({"model": "flux-2-pro", "prompt": "a red door", "image": landscape, "mask": mask}),
    )
    .await;
    assert_eq!(job.status, TaskStatus::Success);
    let calls = mock.received("/replicate/models/black-forest-labs/flux-2-pro");
    let input = &calls.last().unwrap().body["input"];
    assert_eq!(input["input_images"].as_array().unwrap().len(), 2);
    assert!(input["prompt"].as_str().unwrap().ends_with("a red door"));
    assert!(input["prompt"].as_str().unwrap().contains("mask"));
}

#[tokio::test]
async fn gpt_image_generates_and_edits() {
    let mock = Mock::start().await;
    let server = server(&mock);
    let job = run(
        &server,
        Domain::Images,
        json!({"model": "gpt-image-1", "prompt": "a boat", "width": 720, "height": 1280}),
    )
    .await;
    assert_eq!(job.status, TaskStatus::Success, "{job:?}");
    let body = &mock.received("/openai/images/generations")[0].body;
    assert_eq!(body["model"], "gpt-image-1.5");
    assert_eq!(body["size"], "1024x1536");
    assert_eq!(body["quality"], "auto");

    let body = json!({"model": "gpt-image-1", "prompt": "a boat", "image": plate(64, 36), "mask": plate(64, 36),
                      "references": [{"image": plate(20, 20)}]});
    let job = run(&server, Domain::Images, body).await;
    assert_eq!(job.status, TaskStatus::Success, "{job:?}");
    let form = &mock.received("/openai/images/edits")[0].body;
    assert_eq!(form["fields"]["size"], "1536x1024");
    assert_eq!(form["files"]["image[]"], 2, "the image and the reference: {form}");
    assert_eq!(form["files"]["mask"], 1);
}

#[tokio::test]
async fn video_models_snap_durations() {
    let mock = Mock::start().await;
    let server = server(&mock);
    let image = plate(64, 36);
    let cases: Vec<(Value, &str, Value)> = vec![
        (
            json!({"model": "runway-gen-4", "image": image, "num_frames": 250}),
            "runwayml/gen4-turbo",
            json!({"duration": 10, "aspect_ratio": "16:9"}),
        ),
        (
            json!({"model": "runway-gen-4", "video": crate::harness::base64(&mp4()), "num_frames": 48}),
            "runwayml/gen4-aleph",
            json!({"aspect_ratio": "16:9"}),
        ),
        (
            json!({"model": "runway-upscale", "video": crate::harness::base64(&mp4())}),
            "runwayml/upscale-v1",
            json!({}),
        ),
        (
            json!({"model": "seedance-1", "num_frames": 48, "generate_audio": true, "image": image, "last_image": image}),
            "bytedance/seedance-1.5-pro",
            json!({"duration": 5, "generate_audio": true}),
        ),
        (
            json!({"model": "kling-2", "num_frames": 240}),
            "kwaivgi/kling-v2.6",
            json!({"duration": 10}),
        ),
        (
            json!({"model": "kling-2", "image": image, "last_image": image}),
            "kwaivgi/kling-v2.1",
            json!({"mode": "pro"}),
        ),
        (
            json!({"model": "veo-3", "width": 512, "height": 512, "num_frames": 200}),
            "google/veo-3.1",
            json!({"aspect_ratio": "16:9", "duration": 8}),
        ),
        (
            json!({"model": "hailuo-2", "width": 1920, "height": 1080, "num_frames": 200}),
            "minimax/hailuo-2.3",
            json!({"duration": 10, "resolution": "1080p", "prompt_optimizer": false}),
        ),
    ];
    for (body, target, expected) in cases {
        let job = run(&server, Domain::Videos, body.clone()).await;
        assert_eq!(job.status, TaskStatus::Success, "{body}: {job:?}");
        let received = mock.received(&format!("/replicate/models/{target}"));
        let input = &received
            .last()
            .unwrap_or_else(|| panic!("no call to {target} for {body}"))
            .body["input"];
        for (key, value) in expected.as_object().unwrap() {
            assert_eq!(&input[key], value, "{target}: field {key} in {input}");
        }
        assert!(job.output_urls()[0].contains(".mp4"), "{:?}", job.output_urls());
    }
    let seedance = &mock.received("seedance")[0].body["input"];
    assert!(seedance["image"]
        .as_str()
        .unwrap()
        .starts_with("data:image/png;base64,"));
    assert!(seedance["last_frame_image"].is_string());

    let job = run(
        &server,
        Domain::Videos,
        json!({"model": "sora-2", "image": plate(36, 64), "num_frames": 100}),
    )
    .await;
    assert_eq!(job.status, TaskStatus::Success, "{job:?}");
    let form = &mock.received("/openai/videos")[0].body;
    assert_eq!(form["fields"]["model"], "sora-2-pro");
    assert_eq!(form["fields"]["seconds"], "4");
    assert_eq!(form["fields"]["size"], "720x1280");
    assert_eq!(form["files"]["input_reference"], 1);
    let bytes = reqwest::get(&job.output_urls()[0])
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(&bytes[4..8], b"ftyp");
}

#[tokio::test]
async fn text_models_send_presets_and_images() {
    let mock = Mock::start().await;
    let server = server(&mock);
    let presets = ["NONE", "BASE", "IMAGE_OPTIMIZER", "VIDEO_OPTIMIZER", "VIDEO_TRANSITION"];
    for (index, preset) in presets.iter().enumerate() {
        let body = json!({"model": "gpt-4o", "prompt": "describe", "system_prompt": preset, "images": [plate(8, 8)]});
        let job = run(&server, Domain::Texts, body).await;
        assert_eq!(job.status, TaskStatus::Success, "{preset}: {job:?}");
        let (_, answer) = server.get(&format!("/api/texts/{}", job.id)).await;
        assert_eq!(answer["output"], "A calm harbour at dusk.");
        let sent = &mock.received("/openai/responses")[index].body;
        assert_eq!(sent["model"], "gpt-4o-mini");
        assert_eq!(
            sent.get("instructions").is_some(),
            *preset != "NONE",
            "{preset}: {sent}"
        );
        let content = &sent["input"][0]["content"];
        assert_eq!(content[0]["type"], "input_text");
        assert_eq!(content[1]["type"], "input_image");
        assert!(content[1]["image_url"]
            .as_str()
            .unwrap()
            .starts_with("data:image/png;base64,"));
    }
    let instructions: Vec<String> = mock.received("/openai/responses")[1..]
        .iter()
        .map(|received| received.body["instructions"].as_str().unwrap().to_owned())
        .collect();
    let mut distinct = instructions.clone();
    distinct.dedup();
    assert_eq!(distinct.len(), 4, "each preset has its own instructions");
    for (model, provider_model) in [("gpt-4", "gpt-4.1-mini"), ("gpt-5", "gpt-5-mini")] {
        let job = run(&server, Domain::Texts, json!({"model": model, "prompt": "hi"})).await;
        assert_eq!(job.status, TaskStatus::Success);
        assert_eq!(
            mock.received("/openai/responses").last().unwrap().body["model"],
            provider_model
        );
    }
}

#[tokio::test]
async fn provider_failures_are_retried_or_reported() {
    let mock = Mock::start().await;
    let server = server(&mock);
    let image = |prompt: &str| json!({"model": "flux-1-pro", "prompt": prompt, "width": 64, "height": 64});

    for (prompt, attempts) in [("rate limited [429]", 2), ("flaky [500]", 3)] {
        let job = run(&server, Domain::Images, image(prompt)).await;
        assert_eq!(job.status, TaskStatus::Success, "{prompt}: {job:?}");
        let retries = job.logs.iter().filter(|line| line.contains("; retrying in")).count();
        assert_eq!(
            retries,
            attempts - 1,
            "each retry shows in the job's logs: {:?}",
            job.logs
        );
        let creates = mock
            .received("flux-1.1-pro")
            .iter()
            .filter(|received| received.body["input"]["prompt"] == prompt)
            .count();
        assert_eq!(creates, attempts, "{prompt}");
    }

    let cases = [
        (
            "bad input [400]",
            "HTTP 422 Unprocessable Entity: - aspect_ratio: must be one of",
        ),
        ("broken [badjson]", "malformed JSON"),
        ("refused [fail]", "failed: NSFW content detected in the output"),
        ("nothing [empty]", "without an output URL"),
        ("old link [expired]", "the output URL may have expired"),
    ];
    for (prompt, expected) in cases {
        let job = run(&server, Domain::Images, image(prompt)).await;
        assert_eq!(job.status, TaskStatus::Failure, "{prompt}");
        let message = job.error_message.clone().unwrap_or_default();
        assert!(message.contains(expected), "{prompt}: {message}");
    }
    let creates = mock
        .received("flux-1.1-pro")
        .iter()
        .filter(|received| received.body["input"]["prompt"] == "bad input [400]")
        .count();
    assert_eq!(creates, 1, "a 4xx answer is not retried");
}

#[tokio::test]
async fn cancel_cancels_the_prediction() {
    let mock = Mock::start().await;
    let server = server(&mock);
    let (_, created) = server
        .post("/api/images", &json!({"model": "gemini-3", "prompt": "hold [slow]"}))
        .await;
    let id: uuid::Uuid = created["id"].as_str().unwrap().parse().unwrap();
    wait_for(SLOW, || async {
        let job = server.job(Domain::Images, id).await;
        job.logs.iter().any(|line| line.contains("created")).then_some(())
    })
    .await
    .expect("the prediction starts");
    let response = server
        .http()
        .delete(server.url(&format!("/api/images/{id}")))
        .bearer_auth(&server.key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let job = server.wait_finished(Domain::Images, id, SLOW).await;
    assert_eq!(job.status, TaskStatus::Revoked);
    assert_eq!(mock.received("/replicate/cancel/").len(), 1);
}

#[tokio::test]
async fn restart_resumes_the_same_prediction() {
    let mock = Mock::start().await;
    let mut server = server(&mock);
    let (_, created) = server
        .post("/api/videos", &json!({"model": "veo-3", "prompt": "tide [slow]"}))
        .await;
    let id: uuid::Uuid = created["id"].as_str().unwrap().parse().unwrap();
    wait_for(SLOW, || async {
        let job = server.job(Domain::Videos, id).await;
        job.logs
            .iter()
            .any(|line| line.starts_with("[replicate] step 2"))
            .then_some(())
    })
    .await
    .expect("the prediction runs");

    server.kill();
    server.restart();
    mock.release();
    let job = server.wait_finished(Domain::Videos, id, SLOW).await;
    assert_eq!(job.status, TaskStatus::Success, "{job:?}");
    assert!(
        job.logs.iter().any(|line| line == "Resuming Replicate prediction p1"),
        "{:?}",
        job.logs
    );
    assert_eq!(
        mock.received("/replicate/models/").len(),
        1,
        "one prediction was paid for"
    );
}

#[tokio::test]
async fn missing_keys_are_named() {
    let mock = Mock::start().await;
    let env: Vec<(String, String)> = mock
        .env()
        .into_iter()
        .filter(|(name, _)| name != "REPLICATE_API_TOKEN")
        .collect();
    let pairs: Vec<(&str, &str)> = env
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect();
    let server = Server::start_with_env("", &pairs);
    let (_, models) = server.get("/api/images/models").await;
    let description = models["models"]["flux-1-pro"]["description"].as_str().unwrap();
    assert!(
        description.ends_with("(not configured: set REPLICATE_API_TOKEN)"),
        "{description}"
    );
    assert!(!models["models"]["gpt-image-1"]["description"]
        .as_str()
        .unwrap()
        .contains("not configured"));

    let (status, answer) = server
        .post("/api/images", &json!({"model": "flux-1-pro", "prompt": "x"}))
        .await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(answer["detail"][0]["loc"], json!(["body", "model"]));
    assert!(
        answer["detail"][0]["msg"]
            .as_str()
            .unwrap()
            .contains("set REPLICATE_API_TOKEN"),
        "{answer}"
    );
    assert!(!server.log().contains(OPENAI_KEY), "keys never reach the log");
}

#[tokio::test]
async fn hung_provider_times_out() {
    let mock = Mock::start().await;
    let mut env = mock.env();
    env.push(("DDIFFUSION_PROVIDER_TIMEOUT_MS".into(), "300".into()));
    let pairs: Vec<(&str, &str)> = env
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect();
    let server = Server::start_with_env("", &pairs);
    let job = run(
        &server,
        Domain::Images,
        json!({"model": "gemini-2", "prompt": "wait [hang]"}),
    )
    .await;
    assert_eq!(job.status, TaskStatus::Failure);
    let message = job.error_message.unwrap_or_default();
    assert!(message.contains("timed out"), "{message}");
    assert_eq!(
        mock.received("gemini-2.5-flash-image").len(),
        5,
        "each attempt timed out and was retried"
    );
}

#[tokio::test]
async fn keys_from_the_configuration_file() {
    let mock = Mock::start().await;
    let env: Vec<(String, String)> = mock
        .env()
        .into_iter()
        .filter(|(name, _)| name != "REPLICATE_API_TOKEN")
        .collect();
    let pairs: Vec<(&str, &str)> = env
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect();
    let config = format!("replicate_api_token = \"{REPLICATE_TOKEN}\"\n");
    let server = Server::start_with_env(&config, &pairs);
    let job = run(
        &server,
        Domain::Images,
        json!({"model": "flux-1-pro", "prompt": "a gate"}),
    )
    .await;
    assert_eq!(job.status, TaskStatus::Success, "{job:?}");
    assert!(!server.log().contains(REPLICATE_TOKEN), "keys never reach the log");
}

#[tokio::test]
async fn submit_cli_runs_each_domain() {
    let mock = Mock::start().await;
    let server = server(&mock);
    let out = tempfile::tempdir().unwrap();
    let plate = out.path().join("plate.png");
    std::fs::write(&plate, png(32, 18)).unwrap();
    let cases: Vec<Vec<&str>> = vec![
        vec!["images", "--model", "flux-1-pro", "--prompt", "a lighthouse"],
        vec![
            "texts",
            "--model",
            "gpt-4o",
            "--prompt",
            "describe",
            "--image",
            plate.to_str().unwrap(),
        ],
        vec![
            "videos",
            "--model",
            "veo-3",
            "--prompt",
            "waves",
            "--image",
            plate.to_str().unwrap(),
        ],
    ];
    for args in cases {
        let output = tokio::process::Command::new(crate::harness::binary())
            .arg("submit")
            .args(&args)
            .arg("--out")
            .arg(out.path())
            .env("DDIFFUSION_API_ADDRESS", &server.base)
            .env("DDIFFUSION_API_KEY", &server.key)
            .output()
            .await
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        match args[0] {
            "texts" => assert!(stdout.contains("A calm harbour at dusk."), "{stdout}"),
            domain => {
                let written = std::path::PathBuf::from(stdout.trim());
                let extension = if domain == "images" { "png" } else { "mp4" };
                assert_eq!(written.extension().unwrap(), extension, "{stdout}");
                assert!(std::fs::metadata(&written).unwrap().len() > 0);
            }
        }
    }
}
