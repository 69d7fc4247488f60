//! External image models: the request each model sends, and the executor
//! that runs them.

use std::sync::Arc;

use engine::{Executor, ExecutorFuture, JobContext, JobError, JobOutput};
use protocol::images::{ImageMode, ImageRequest};
use serde_json::{json, Value};

use crate::config::ProviderConfig;
use crate::http::Http;
use crate::inputs::{openai_mask, to_png, InputImage, Orientation};
use crate::openai::{OpenAi, Upload};
use crate::replicate::Replicate;

/// Image models this crate runs.
pub const MODELS: &[&str] = &[
    "gpt-image-1",
    "runway-gen-4",
    "flux-1-pro",
    "flux-2-pro",
    "topazlabs-upscale",
    "gemini-2",
    "gemini-3",
    "seedream-4",
];

/// Text put before the prompt when a model without masks inpaints: the mask
/// and the image go in as the first two reference images.
pub const MASK_INSTRUCTION: &str = "The first reference image is a mask and the second is a photo. Change only the \
     part of the photo under the white area of the mask, leave everything else exactly as it is, and blend the \
     change into its surroundings. The change: ";

/// The decoded inputs of a request.
pub struct Inputs {
    pub image: Option<InputImage>,
    pub mask: Option<InputImage>,
    pub references: Vec<InputImage>,
}

impl Inputs {
    pub async fn read(ctx: &JobContext, request: &ImageRequest) -> Result<Self, JobError> {
        let image = InputImage::read_optional(ctx, "image", request.image.as_deref()).await?;
        let mask = InputImage::read_optional(ctx, "mask", request.mask.as_deref()).await?;
        let mut references = Vec::new();
        for (index, reference) in request.references.iter().enumerate() {
            references.push(InputImage::read(ctx, &format!("references[{index}].image"), &reference.image).await?);
        }
        Ok(Self {
            image,
            mask,
            references,
        })
    }

    /// Returns the image followed by the references, as data URIs.
    fn all_images(&self) -> Result<Vec<String>, JobError> {
        self.image
            .iter()
            .chain(&self.references)
            .map(InputImage::data_uri)
            .collect()
    }
}

/// One provider call.
#[derive(Debug, Clone, PartialEq)]
pub enum Call {
    /// A Replicate prediction of an official model.
    Replicate { model: &'static str, input: Value },
    /// OpenAI `images/generations` with a JSON body.
    OpenAiGenerate { body: Value },
    /// OpenAI `images/edits`: form fields; the images and mask come from the inputs.
    OpenAiEdit {
        fields: Vec<(&'static str, String)>,
        with_mask: bool,
    },
}

/// Maps a request of `model` to its provider call. The working size is the
/// input image's when there is one, else the request's width and height.
pub fn plan(model: &str, request: &ImageRequest, inputs: &Inputs) -> Result<Call, JobError> {
    let (width, height) = match &inputs.image {
        Some(image) => image.size(),
        None => (request.width.max(1) as u32, request.height.max(1) as u32),
    };
    let orientation = Orientation::of(width, height);
    let aspect = orientation.aspect_ratio();
    let prompt = request.cleaned_prompt();
    let mode = request.mode();
    let has_images = inputs.image.is_some() || !inputs.references.is_empty();
    let replicate = |model: &'static str, input: Value| Ok(Call::Replicate { model, input });
    let first_image = || -> Result<String, JobError> {
        inputs
            .image
            .as_ref()
            .ok_or_else(|| JobError::failed("this mode needs an image"))?
            .data_uri()
    };
    match model {
        "gpt-image-1" => {
            let size = match orientation {
                Orientation::Landscape => "1536x1024",
                Orientation::Portrait => "1024x1536",
                Orientation::Square => "1024x1024",
            };
            if has_images {
                let fields = vec![
                    ("model", "gpt-image-1.5".to_owned()),
                    ("prompt", prompt),
                    ("size", size.to_owned()),
                    ("quality", "auto".to_owned()),
                    ("n", "1".to_owned()),
                ];
                Ok(Call::OpenAiEdit {
                    fields,
                    with_mask: mode == ImageMode::Inpainting,
                })
            } else {
                Ok(Call::OpenAiGenerate {
                    body: json!({"model": "gpt-image-1.5", "prompt": prompt, "size": size, "quality": "auto", "n": 1}),
                })
            }
        }
        "runway-gen-4" => {
            if has_images {
                let images: Vec<String> = inputs
                    .image
                    .iter()
                    .chain(&inputs.references)
                    .map(|image| image.crop_aspect(0.52, 1.98).data_uri())
                    .collect::<Result<_, _>>()?;
                let tags: Vec<String> = (1..=images.len()).map(|index| format!("image{index}")).collect();
                replicate(
                    "runwayml/gen4-image-turbo",
                    json!({"prompt": prompt, "aspect_ratio": aspect, "reference_images": images, "reference_tags": tags}),
                )
            } else {
                replicate("runwayml/gen4-image", json!({"prompt": prompt, "aspect_ratio": aspect}))
            }
        }
        "flux-1-pro" => match mode {
            ImageMode::TextToImage => replicate(
                "black-forest-labs/flux-1.1-pro",
                json!({"prompt": prompt, "aspect_ratio": aspect, "output_format": "png", "safety_tolerance": 6,
                       "seed": request.seed, "raw": true}),
            ),
            ImageMode::ImageToImage => replicate(
                "black-forest-labs/flux-kontext-pro",
                json!({"prompt": prompt, "input_image": first_image()?, "aspect_ratio": "match_input_image",
                       "output_format": "png", "safety_tolerance": 6, "seed": request.seed}),
            ),
            ImageMode::Inpainting => {
                let mask = inputs
                    .mask
                    .as_ref()
                    .ok_or_else(|| JobError::failed("inpainting needs a mask"))?;
                replicate(
                    "black-forest-labs/flux-fill-pro",
                    json!({"prompt": prompt, "image": first_image()?, "mask": mask.data_uri()?,
                           "output_format": "png", "safety_tolerance": 6, "seed": request.seed}),
                )
            }
        },
        "flux-2-pro" => {
            let (prompt, images) = with_mask_instruction(mode, prompt, inputs)?;
            let aspect = if inputs.image.is_some() {
                "match_input_image"
            } else {
                aspect
            };
            replicate(
                "black-forest-labs/flux-2-pro",
                json!({"prompt": prompt, "resolution": "2 MP", "aspect_ratio": aspect, "safety_tolerance": 5,
                       "output_format": "png", "seed": request.seed, "input_images": images}),
            )
        }
        "topazlabs-upscale" => replicate(
            "topazlabs/image-upscale",
            json!({"image": first_image()?, "upscale_factor": "4x", "output_format": "png", "face_enhancement": false}),
        ),
        "gemini-2" => {
            if has_images {
                replicate(
                    "google/nano-banana",
                    json!({"prompt": prompt, "image_input": inputs.all_images()?, "aspect_ratio": aspect, "output_format": "png"}),
                )
            } else {
                replicate(
                    "google/gemini-2.5-flash-image",
                    json!({"prompt": prompt, "aspect_ratio": aspect, "output_format": "png"}),
                )
            }
        }
        "gemini-3" => replicate(
            "google/nano-banana-pro",
            json!({"prompt": prompt, "image_input": inputs.all_images()?, "aspect_ratio": aspect, "output_format": "png"}),
        ),
        "seedream-4" => {
            let aspect = if inputs.image.is_some() {
                "match_input_image"
            } else {
                aspect
            };
            replicate(
                "bytedance/seedream-4.5",
                json!({"prompt": prompt, "size": "2K", "aspect_ratio": aspect, "sequential_image_generation": "disabled",
                       "max_images": 1, "enhance_prompt": false, "image_input": inputs.all_images()?}),
            )
        }
        other => Err(JobError::failed(format!("{other} is not an external image model"))),
    }
}

/// For inpainting on a model without masks: the mask and the image as the
/// first two images, and [`MASK_INSTRUCTION`] before the prompt.
fn with_mask_instruction(mode: ImageMode, prompt: String, inputs: &Inputs) -> Result<(String, Vec<String>), JobError> {
    if mode != ImageMode::Inpainting {
        return Ok((prompt, inputs.all_images()?));
    }
    let mask = inputs
        .mask
        .as_ref()
        .ok_or_else(|| JobError::failed("inpainting needs a mask"))?;
    let mut images = vec![mask.data_uri()?];
    images.extend(inputs.all_images()?);
    Ok((format!("{MASK_INSTRUCTION}{prompt}"), images))
}

/// Runs one external image model.
pub struct ImagesExecutor {
    model: String,
    config: Arc<ProviderConfig>,
    http: Http,
}

impl ImagesExecutor {
    pub fn new(model: &str, config: Arc<ProviderConfig>) -> Self {
        let http = Http::new(&config);
        Self {
            model: model.to_owned(),
            config,
            http,
        }
    }
}

impl Executor for ImagesExecutor {
    fn run(&self, ctx: JobContext) -> ExecutorFuture<'_> {
        Box::pin(async move {
            let http = self.http.for_job(&ctx);
            let request: ImageRequest = ctx.request()?;
            let inputs = Inputs::read(&ctx, &request).await?;
            let call = plan(&self.model, &request, &inputs)?;
            let bytes = match call {
                Call::Replicate { model, input } => {
                    let client = Replicate::new(&self.config, &http)?;
                    let url = client.run(&ctx, model, &input).await?;
                    ctx.log("Downloading the output");
                    http.download("Replicate output download", &url).await?
                }
                Call::OpenAiGenerate { body } => {
                    let client = OpenAi::new(&self.config, &http)?;
                    ctx.log("Calling OpenAI images/generations");
                    client.generate_image(&body).await?
                }
                Call::OpenAiEdit { fields, with_mask } => {
                    let client = OpenAi::new(&self.config, &http)?;
                    let mut uploads = Vec::new();
                    for (index, image) in inputs.image.iter().chain(&inputs.references).enumerate() {
                        uploads.push(Upload {
                            name: format!("image-{index}.png"),
                            bytes: image.png()?,
                            mime: "image/png",
                        });
                    }
                    let mask = match (with_mask, &inputs.mask, &inputs.image) {
                        (true, Some(mask), Some(image)) => {
                            let (width, height) = image.size();
                            Some(Upload {
                                name: "mask.png".into(),
                                bytes: openai_mask(mask, width, height)?,
                                mime: "image/png",
                            })
                        }
                        _ => None,
                    };
                    ctx.log("Calling OpenAI images/edits");
                    let fields: Vec<(&str, String)> =
                        fields.iter().map(|(name, value)| (*name, value.clone())).collect();
                    client.edit_image(&fields, &uploads, mask.as_ref()).await?
                }
            };
            let png = to_png(bytes, "the provider's output")?;
            let path = ctx.write_output(0, "png", &png).await?;
            Ok(JobOutput {
                files: vec![path],
                text: None,
            })
        })
    }
}
