//! External text models through OpenAI's Responses API, with the system
//! prompt presets.

use std::sync::Arc;

use engine::{Executor, ExecutorFuture, JobContext, JobOutput};
use protocol::texts::{SystemPrompt, TextRequest};

use crate::config::ProviderConfig;
use crate::http::Http;
use crate::inputs::InputImage;
use crate::openai::{response_body, OpenAi};

/// Text models this crate runs, with the OpenAI model each calls.
pub const MODELS: &[(&str, &str)] = &[
    ("gpt-4o", "gpt-4o-mini"),
    ("gpt-4", "gpt-4.1-mini"),
    ("gpt-5", "gpt-5-mini"),
];

/// Instructions of a system prompt preset; `None` for [`SystemPrompt::None`].
pub fn instructions(preset: SystemPrompt) -> Option<&'static str> {
    match preset {
        SystemPrompt::None => None,
        SystemPrompt::Base => Some(
            "You are an assistant for visual effects artists. When images or videos are attached, look at them \
             closely and base your answer on what they show. Answer the request directly and briefly, without \
             preamble.",
        ),
        SystemPrompt::ImageOptimizer => Some(
            "Rewrite the user's request as one prompt for an image generation model. Describe the subject, its \
             setting, composition, camera and lens, lighting, colour and style in concrete visual terms, in at most \
             80 words. When images are attached, keep what they show unless the request changes it. Reply with the \
             prompt only.",
        ),
        SystemPrompt::VideoOptimizer => Some(
            "Rewrite the user's request as one prompt for a video generation model describing a single continuous \
             shot: the subject and its action over time, camera movement, setting, lighting and mood, in at most 80 \
             words. When an image is attached, treat it as the first frame. Reply with the prompt only.",
        ),
        SystemPrompt::VideoTransition => Some(
            "Two images are attached: the first frame and the last frame of a shot. Write one prompt for a video \
             generation model that describes a single continuous shot moving from the first frame to the last: \
             what moves, how the camera travels and how the light changes, in at most 80 words. Reply with the \
             prompt only.",
        ),
    }
}

/// Runs one external text model.
pub struct TextsExecutor {
    model: String,
    provider_model: &'static str,
    config: Arc<ProviderConfig>,
    http: Http,
}

impl TextsExecutor {
    /// Returns `None` when `model` is not one of [`MODELS`].
    pub fn new(model: &str, config: Arc<ProviderConfig>) -> Option<Self> {
        let provider_model = MODELS.iter().find(|(name, _)| *name == model)?.1;
        let http = Http::new(&config);
        Some(Self {
            model: model.to_owned(),
            provider_model,
            config,
            http,
        })
    }
}

impl Executor for TextsExecutor {
    fn run(&self, ctx: JobContext) -> ExecutorFuture<'_> {
        Box::pin(async move {
            let http = self.http.for_job(&ctx);
            let request: TextRequest = ctx.request()?;
            let client = OpenAi::new(&self.config, &http)?;
            let mut images = Vec::new();
            for (index, path) in request.images.iter().enumerate() {
                images.push(
                    InputImage::read(&ctx, &format!("images[{index}]"), path)
                        .await?
                        .data_uri()?,
                );
            }
            if !request.videos.is_empty() {
                ctx.log(format!("{} ignores the attached videos", self.model));
            }
            let body = response_body(
                self.provider_model,
                instructions(request.system_prompt),
                &request.prompt,
                &images,
            );
            ctx.log(format!("Calling OpenAI responses with {}", self.provider_model));
            ctx.check_cancelled()?;
            let text = client.respond(&body).await?;
            Ok(JobOutput {
                files: Vec::new(),
                text: Some(text),
            })
        })
    }
}
