//! External video models: duration snapping, the request each model sends,
//! and the executor that runs them.

use std::sync::Arc;

use base64::Engine as _;
use engine::{Executor, ExecutorFuture, JobContext, JobError, JobOutput};
use protocol::videos::VideoRequest;
use serde_json::{json, Value};

use crate::config::ProviderConfig;
use crate::http::Http;
use crate::inputs::{data_uri, InputImage, Orientation};
use crate::openai::{OpenAi, Upload};
use crate::replicate::Replicate;

/// Video models this crate runs.
pub const MODELS: &[&str] = &[
    "runway-gen-4",
    "runway-upscale",
    "seedance-1",
    "kling-2",
    "veo-3",
    "sora-2",
    "hailuo-2",
];

/// Frames per second used to turn `num_frames` into a duration.
pub const FRAMES_PER_SECOND: f64 = 24.0;

/// Returns the allowed duration nearest to `num_frames` at
/// [`FRAMES_PER_SECOND`]; a tie takes the shorter one.
pub fn snap_seconds(num_frames: i64, allowed: &[u32]) -> u32 {
    let wanted = num_frames as f64 / FRAMES_PER_SECOND;
    let mut best = allowed[0];
    for &seconds in allowed {
        if (seconds as f64 - wanted).abs() < (best as f64 - wanted).abs() {
            best = seconds;
        }
    }
    best
}

/// The decoded inputs of a request.
pub struct Inputs {
    pub image: Option<InputImage>,
    pub last_image: Option<InputImage>,
    /// The input video as a `data:video/mp4;base64,...` URI.
    pub video: Option<String>,
}

impl Inputs {
    pub async fn read(ctx: &JobContext, request: &VideoRequest) -> Result<Self, JobError> {
        let image = InputImage::read_optional(ctx, "image", request.image.as_deref()).await?;
        let last_image = InputImage::read_optional(ctx, "last_image", request.last_image.as_deref()).await?;
        let video = match &request.video {
            Some(path) => {
                let bytes = tokio::fs::read(ctx.input_path(path))
                    .await
                    .map_err(|error| JobError::failed(format!("could not read video: {error}")))?;
                Some(data_uri("video/mp4", &bytes))
            }
            None => None,
        };
        Ok(Self {
            image,
            last_image,
            video,
        })
    }
}

/// One provider call.
#[derive(Debug, Clone, PartialEq)]
pub enum Call {
    Replicate {
        model: &'static str,
        input: Value,
    },
    /// OpenAI `videos` form fields; the reference image, resized to `size`, comes from the inputs.
    OpenAiVideo {
        fields: Vec<(&'static str, String)>,
        size: (u32, u32),
    },
}

fn optional_uri(image: &Option<InputImage>) -> Result<Value, JobError> {
    Ok(match image {
        Some(image) => json!(image.data_uri()?),
        None => Value::Null,
    })
}

/// Puts `value` into `input` under `key` unless it is null.
fn insert(input: &mut Value, key: &str, value: Value) {
    if !value.is_null() {
        input[key] = value;
    }
}

/// Maps a request of `model` to its provider call.
pub fn plan(model: &str, request: &VideoRequest, inputs: &Inputs) -> Result<Call, JobError> {
    let (width, height) = match &inputs.image {
        Some(image) => image.size(),
        None => (request.width.max(1) as u32, request.height.max(1) as u32),
    };
    let orientation = Orientation::of(width, height);
    let aspect = orientation.aspect_ratio();
    let prompt = request.cleaned_prompt();
    let seed = request.seed;
    let frames = request.num_frames;
    let replicate = |model: &'static str, input: Value| Ok(Call::Replicate { model, input });
    match model {
        "runway-gen-4" => match (&inputs.video, &inputs.image) {
            (Some(video), _) => {
                let mut input = json!({"prompt": prompt, "video": video, "seed": seed, "aspect_ratio": aspect});
                insert(&mut input, "reference_image", optional_uri(&inputs.image)?);
                replicate("runwayml/gen4-aleph", input)
            }
            (None, Some(image)) => replicate(
                "runwayml/gen4-turbo",
                json!({"prompt": prompt, "image": image.data_uri()?, "seed": seed, "aspect_ratio": aspect,
                       "duration": snap_seconds(frames, &[5, 10])}),
            ),
            (None, None) => Err(JobError::failed("runway-gen-4 needs an image or a video")),
        },
        "runway-upscale" => {
            let video = inputs
                .video
                .clone()
                .ok_or_else(|| JobError::failed("runway-upscale needs a video"))?;
            replicate("runwayml/upscale-v1", json!({"video": video}))
        }
        "seedance-1" => {
            let mut input = json!({"prompt": prompt, "seed": seed, "aspect_ratio": aspect,
                                   "duration": snap_seconds(frames, &[5, 10]), "generate_audio": request.generate_audio});
            insert(&mut input, "image", optional_uri(&inputs.image)?);
            insert(&mut input, "last_frame_image", optional_uri(&inputs.last_image)?);
            replicate("bytedance/seedance-1.5-pro", input)
        }
        "kling-2" => {
            let duration = snap_seconds(frames, &[5, 10]);
            if inputs.last_image.is_some() {
                let mut input = json!({"prompt": prompt, "seed": seed, "duration": duration, "mode": "pro"});
                insert(&mut input, "start_image", optional_uri(&inputs.image)?);
                insert(&mut input, "end_image", optional_uri(&inputs.last_image)?);
                replicate("kwaivgi/kling-v2.1", input)
            } else {
                let mut input = json!({"prompt": prompt, "seed": seed, "aspect_ratio": aspect, "duration": duration,
                                       "generate_audio": request.generate_audio});
                insert(&mut input, "start_image", optional_uri(&inputs.image)?);
                replicate("kwaivgi/kling-v2.6", input)
            }
        }
        "veo-3" => {
            // Veo has no square format.
            let aspect = if orientation == Orientation::Square {
                "16:9"
            } else {
                aspect
            };
            let mut input = json!({"prompt": prompt, "seed": seed, "aspect_ratio": aspect,
                                   "duration": snap_seconds(frames, &[4, 8]), "generate_audio": request.generate_audio});
            insert(&mut input, "image", optional_uri(&inputs.image)?);
            insert(&mut input, "last_frame", optional_uri(&inputs.last_image)?);
            replicate("google/veo-3.1", input)
        }
        "hailuo-2" => {
            let resolution = if (width as u64) * (height as u64) >= 2_000_000 {
                "1080p"
            } else {
                "768p"
            };
            let mut input = json!({"prompt": prompt, "duration": snap_seconds(frames, &[6, 10]),
                                   "resolution": resolution, "prompt_optimizer": false});
            insert(&mut input, "first_frame_image", optional_uri(&inputs.image)?);
            replicate("minimax/hailuo-2.3", input)
        }
        "sora-2" => {
            let size = match orientation {
                Orientation::Portrait => (720, 1280),
                Orientation::Landscape | Orientation::Square => (1280, 720),
            };
            let fields = vec![
                ("model", "sora-2-pro".to_owned()),
                ("prompt", prompt),
                ("seconds", snap_seconds(frames, &[4, 8]).to_string()),
                ("size", format!("{}x{}", size.0, size.1)),
            ];
            Ok(Call::OpenAiVideo { fields, size })
        }
        other => Err(JobError::failed(format!("{other} is not an external video model"))),
    }
}

/// Runs one external video model.
pub struct VideosExecutor {
    model: String,
    config: Arc<ProviderConfig>,
    http: Http,
}

impl VideosExecutor {
    pub fn new(model: &str, config: Arc<ProviderConfig>) -> Self {
        let http = Http::new(&config);
        Self {
            model: model.to_owned(),
            config,
            http,
        }
    }
}

impl Executor for VideosExecutor {
    fn run(&self, ctx: JobContext) -> ExecutorFuture<'_> {
        Box::pin(async move {
            let http = self.http.for_job(&ctx);
            let request: VideoRequest = ctx.request()?;
            let inputs = Inputs::read(&ctx, &request).await?;
            let bytes = match plan(&self.model, &request, &inputs)? {
                Call::Replicate { model, input } => {
                    let client = Replicate::new(&self.config, &http)?;
                    let url = client.run(&ctx, model, &input).await?;
                    ctx.log("Downloading the output");
                    http.download("Replicate output download", &url).await?
                }
                Call::OpenAiVideo { fields, size } => {
                    let client = OpenAi::new(&self.config, &http)?;
                    let reference = match &inputs.image {
                        Some(image) => Some(Upload {
                            name: "reference.png".into(),
                            bytes: image.fill(size.0, size.1).png()?,
                            mime: "image/png",
                        }),
                        None => None,
                    };
                    let fields: Vec<(&str, String)> =
                        fields.iter().map(|(name, value)| (*name, value.clone())).collect();
                    client.video(&ctx, &fields, reference.as_ref()).await?
                }
            };
            check_mp4(&bytes)?;
            let path = ctx.write_output(0, "mp4", &bytes).await?;
            Ok(JobOutput {
                files: vec![path],
                text: None,
            })
        })
    }
}

/// Fails unless `bytes` start like an MP4 (an ISO media `ftyp` box).
fn check_mp4(bytes: &[u8]) -> Result<(), JobError> {
    if bytes.len() >= 12 && &bytes[4..8] == b"ftyp" {
        Ok(())
    } else {
        let start = base64::engine::general_purpose::STANDARD.encode(&bytes[..bytes.len().min(12)]);
        Err(JobError::failed(format!(
            "the provider's output is not an MP4 file ({} bytes, starting with base64 {start})",
            bytes.len()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::snap_seconds;

    #[test]
    fn frames_snap_to_allowed_durations() {
        assert_eq!(snap_seconds(48, &[5, 10]), 5);
        assert_eq!(snap_seconds(250, &[5, 10]), 10);
        assert_eq!(snap_seconds(180, &[5, 10]), 5, "7.5 s is a tie and takes the shorter");
        assert_eq!(snap_seconds(24, &[4, 8]), 4);
        assert_eq!(snap_seconds(200, &[4, 8]), 8);
        assert_eq!(snap_seconds(200, &[6, 10]), 10);
    }
}
