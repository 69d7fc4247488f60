//! The generate page: forms that submit image, text and video jobs.

use std::collections::BTreeMap;

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::NavigateOptions;
use protocol::images::{ImageModelsResponse, ImagesModelInfo};
use serde_json::{json, Map, Value};
use wasm_bindgen::JsCast;
use web_sys::HtmlInputElement;

use crate::api;
use crate::queue::submit_stored;
use crate::ErrorLine;

#[derive(Clone, Copy, PartialEq)]
enum Form {
    Image,
    Text,
    Video,
}

#[component]
pub fn GeneratePage() -> impl IntoView {
    let form = RwSignal::new(Form::Image);
    view! {
        <h1>"Generate"</h1>
        <div class="tabs">
            <button id="tab-images" class:active=move || form.get() == Form::Image on:click=move |_| form.set(Form::Image)>"Image"</button>
            <button id="tab-texts" class:active=move || form.get() == Form::Text on:click=move |_| form.set(Form::Text)>"Text"</button>
            <button id="tab-videos" class:active=move || form.get() == Form::Video on:click=move |_| form.set(Form::Video)>"Video"</button>
        </div>
        {move || match form.get() {
            Form::Image => view! { <ImageForm/> }.into_any(),
            Form::Text => view! { <TextForm/> }.into_any(),
            Form::Video => view! { <VideoForm/> }.into_any(),
        }}
    }
}

/// Model names of `/api/{domain}/models`, with their descriptions.
async fn model_names(domain: &str) -> Result<Vec<(String, String)>, api::ApiError> {
    let response: Value = api::get_json(&format!("/api/{domain}/models")).await?;
    let models = response
        .get("models")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    Ok(models
        .into_iter()
        .map(|(name, info)| {
            let description = info
                .get("description")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            (name, description)
        })
        .collect())
}

/// Returns the file chosen in the file input with this element id, if any.
fn chosen_file(element_id: &str) -> Option<web_sys::File> {
    let input: HtmlInputElement = web_sys::window()?
        .document()?
        .get_element_by_id(element_id)?
        .dyn_into()
        .ok()?;
    input.files()?.get(0)
}

/// Reads the chosen file as base64 into `body[field]`; leaves it out when none is chosen.
async fn attach_file(body: &mut Map<String, Value>, field: &str, element_id: &str) -> Result<(), api::ApiError> {
    if let Some(file) = chosen_file(element_id) {
        body.insert(field.into(), Value::String(api::read_file_base64(file).await?));
    }
    Ok(())
}

fn parse_number<T: std::str::FromStr>(label: &str, text: &str) -> Result<Option<T>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    text.parse()
        .map(Some)
        .map_err(|_| format!("{label} must be a number, not \"{text}\""))
}

/// Submits `body` to `/api/{domain}` and opens the new task's page.
fn submit_and_open(
    domain: &'static str,
    body: Value,
    busy: RwSignal<bool>,
    error: RwSignal<Option<String>>,
    navigate: impl Fn(&str, NavigateOptions) + 'static,
) {
    busy.set(true);
    spawn_local(async move {
        match submit_stored(domain, &body.to_string()).await {
            Ok(created) => {
                error.set(None);
                navigate(&format!("/ui/tasks/{}", created.id), NavigateOptions::default());
            }
            Err(failure) => error.set(Some(format!("Submit failed: {failure}"))),
        }
        busy.set(false);
    });
}

#[component]
fn ImageForm() -> impl IntoView {
    let navigate = use_navigate();
    let models = RwSignal::new(BTreeMap::<String, ImagesModelInfo>::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let model = RwSignal::new(String::new());
    let prompt = RwSignal::new(String::new());
    let width = RwSignal::new("1024".to_owned());
    let height = RwSignal::new("1024".to_owned());
    let seed = RwSignal::new("42".to_owned());
    let strength = RwSignal::new("0.5".to_owned());
    let steps = RwSignal::new(String::new());
    let guidance = RwSignal::new(String::new());
    // An output sent here from the gallery (`?input=URL`), as base64; a chosen file replaces it.
    let input_image = RwSignal::new(None::<String>);
    let input_url = use_query_map().get_untracked().get("input");
    if let Some(url) = input_url {
        spawn_local(async move {
            match api::download_base64(&url).await {
                Ok(data) => input_image.set(Some(data)),
                Err(failure) => error.set(Some(format!("Could not load the input image: {failure}"))),
            }
        });
    }

    spawn_local(async move {
        match api::get_json::<ImageModelsResponse>("/api/images/models").await {
            Ok(response) => {
                if let Some(first) = response.models.keys().next() {
                    model.set(first.clone());
                }
                models.set(response.models);
            }
            Err(failure) => error.set(Some(format!("Could not load the image models: {failure}"))),
        }
    });

    let capabilities = move || {
        models.with(|models| {
            models.get(&model.get()).map(|info| {
                let mut abilities = Vec::new();
                for (present, name) in [
                    (info.text_to_image, "text to image"),
                    (info.image_to_image, "image to image"),
                    (info.inpainting, "inpainting"),
                    (info.references, "reference images"),
                ] {
                    if present {
                        abilities.push(name);
                    }
                }
                let provider = if info.external { "external" } else { "local" };
                format!(
                    "{} ({provider}): {}",
                    info.description.clone().unwrap_or_default(),
                    abilities.join(", ")
                )
            })
        })
    };

    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let numbers = (|| -> Result<Value, String> {
            let mut body = json!({
                "model": model.get_untracked(),
                "prompt": prompt.get_untracked(),
            });
            let object = body.as_object_mut().expect("a JSON object");
            for (field, label, text) in [
                ("width", "Width", width),
                ("height", "Height", height),
                ("seed", "Seed", seed),
                ("steps", "Steps", steps),
            ] {
                if let Some(number) = parse_number::<i64>(label, &text.get_untracked())? {
                    object.insert(field.into(), number.into());
                }
            }
            for (field, label, text) in [
                ("strength", "Strength", strength),
                ("guidance_scale", "Guidance", guidance),
            ] {
                if let Some(number) = parse_number::<f64>(label, &text.get_untracked())? {
                    object.insert(field.into(), number.into());
                }
            }
            Ok(body)
        })();
        let mut body = match numbers {
            Ok(body) => body,
            Err(message) => {
                error.set(Some(message));
                return;
            }
        };
        let navigate = navigate.clone();
        busy.set(true);
        spawn_local(async move {
            let object = body.as_object_mut().expect("a JSON object");
            if let Some(data) = input_image.get_untracked() {
                object.insert("image".into(), Value::String(data));
            }
            let attached = match attach_file(object, "image", "image-input").await {
                Ok(()) => attach_file(object, "mask", "mask-input").await,
                Err(failure) => Err(failure),
            };
            if let Err(failure) = attached {
                error.set(Some(failure.to_string()));
                busy.set(false);
                return;
            }
            match submit_stored("images", &body.to_string()).await {
                Ok(created) => {
                    error.set(None);
                    navigate(&format!("/ui/tasks/{}", created.id), NavigateOptions::default());
                }
                Err(failure) => error.set(Some(format!("Submit failed: {failure}"))),
            }
            busy.set(false);
        });
    };

    view! {
        <form id="image-form" class="job-form" on:submit=submit>
            <label>"Model"
                <select id="image-model" on:change=move |event| model.set(event_target_value(&event)) prop:value=move || model.get()>
                    {move || models.with(|models| models.keys().map(|name| view! { <option value=name.clone()>{name.clone()}</option> }).collect_view())}
                </select>
            </label>
            <p class="hint" id="image-capabilities">{capabilities}</p>
            <label>"Prompt" <textarea id="image-prompt" rows="3" bind:value=prompt></textarea></label>
            <div class="row">
                <label>"Width" <input id="image-width" type="number" min="1" bind:value=width/></label>
                <label>"Height" <input id="image-height" type="number" min="1" bind:value=height/></label>
                <label>"Seed" <input id="image-seed" type="number" bind:value=seed/></label>
            </div>
            <div class="row">
                <label>"Strength" <input id="image-strength" type="number" min="0" max="1" step="0.05" bind:value=strength/></label>
                <label>"Steps" <input id="image-steps" type="number" min="1" max="150" placeholder="model default" bind:value=steps/></label>
                <label>"Guidance" <input id="image-guidance" type="number" min="0" max="30" step="0.5" placeholder="model default" bind:value=guidance/></label>
            </div>
            <div class="row">
                <label>"Input image (image to image)" <input id="image-input" type="file" accept="image/*"/></label>
                <Show when=move || input_image.with(|image| image.is_some())>
                    <figure id="sent-input">
                        <img class="input-image" src=move || format!("data:image/png;base64,{}", input_image.get().unwrap_or_default())/>
                        <figcaption>"From the gallery " <button type="button" class="secondary" on:click=move |_| input_image.set(None)>"Remove"</button></figcaption>
                    </figure>
                </Show>
                <label>"Mask (inpainting; needs an input image)" <input id="mask-input" type="file" accept="image/*"/></label>
            </div>
            <button id="image-submit" type="submit" disabled=move || busy.get()>"Generate image"</button>
            <ErrorLine error=error/>
        </form>
    }
}

#[component]
fn TextForm() -> impl IntoView {
    let navigate = use_navigate();
    let models = RwSignal::new(Vec::<(String, String)>::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let model = RwSignal::new(String::new());
    let prompt = RwSignal::new(String::new());
    let system_prompt = RwSignal::new("BASE".to_owned());

    spawn_local(async move {
        match model_names("texts").await {
            Ok(names) => {
                if let Some((first, _)) = names.first() {
                    model.set(first.clone());
                }
                models.set(names);
            }
            Err(failure) => error.set(Some(format!("Could not load the text models: {failure}"))),
        }
    });

    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let body = json!({
            "model": model.get_untracked(),
            "prompt": prompt.get_untracked(),
            "system_prompt": system_prompt.get_untracked(),
        });
        submit_and_open("texts", body, busy, error, navigate.clone());
    };

    view! {
        <form id="text-form" class="job-form" on:submit=submit>
            <label>"Model"
                <select id="text-model" on:change=move |event| model.set(event_target_value(&event)) prop:value=move || model.get()>
                    {move || models.get().into_iter().map(|(name, description)| view! { <option value=name.clone() title=description>{name.clone()}</option> }).collect_view()}
                </select>
            </label>
            <label>"System prompt"
                <select id="text-system-prompt" on:change=move |event| system_prompt.set(event_target_value(&event)) prop:value=move || system_prompt.get()>
                    {["NONE", "BASE", "IMAGE_OPTIMIZER", "VIDEO_OPTIMIZER", "VIDEO_TRANSITION"].map(|preset| view! { <option value=preset>{preset}</option> }).into_iter().collect_view()}
                </select>
            </label>
            <label>"Prompt" <textarea id="text-prompt" rows="4" bind:value=prompt></textarea></label>
            <button id="text-submit" type="submit" disabled=move || busy.get()>"Generate text"</button>
            <ErrorLine error=error/>
        </form>
    }
}

#[component]
fn VideoForm() -> impl IntoView {
    let navigate = use_navigate();
    let models = RwSignal::new(Vec::<(String, String)>::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let model = RwSignal::new(String::new());
    let prompt = RwSignal::new(String::new());
    let width = RwSignal::new("854".to_owned());
    let height = RwSignal::new("480".to_owned());
    let frames = RwSignal::new("48".to_owned());
    let seed = RwSignal::new("42".to_owned());

    spawn_local(async move {
        match model_names("videos").await {
            Ok(names) => {
                if let Some((first, _)) = names.first() {
                    model.set(first.clone());
                }
                models.set(names);
            }
            Err(failure) => error.set(Some(format!("Could not load the video models: {failure}"))),
        }
    });

    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let mut body = json!({ "model": model.get_untracked(), "prompt": prompt.get_untracked() });
        let object = body.as_object_mut().expect("a JSON object");
        for (field, label, text) in [
            ("width", "Width", width),
            ("height", "Height", height),
            ("num_frames", "Frames", frames),
            ("seed", "Seed", seed),
        ] {
            match parse_number::<i64>(label, &text.get_untracked()) {
                Ok(Some(number)) => {
                    object.insert(field.into(), number.into());
                }
                Ok(None) => {}
                Err(message) => {
                    error.set(Some(message));
                    return;
                }
            }
        }
        let navigate = navigate.clone();
        busy.set(true);
        spawn_local(async move {
            if let Err(failure) = attach_file(
                body.as_object_mut().expect("a JSON object"),
                "image",
                "video-image-input",
            )
            .await
            {
                error.set(Some(failure.to_string()));
                busy.set(false);
                return;
            }
            match submit_stored("videos", &body.to_string()).await {
                Ok(created) => {
                    error.set(None);
                    navigate(&format!("/ui/tasks/{}", created.id), NavigateOptions::default());
                }
                Err(failure) => error.set(Some(format!("Submit failed: {failure}"))),
            }
            busy.set(false);
        });
    };

    view! {
        <form id="video-form" class="job-form" on:submit=submit>
            <label>"Model"
                <select id="video-model" on:change=move |event| model.set(event_target_value(&event)) prop:value=move || model.get()>
                    {move || models.get().into_iter().map(|(name, description)| view! { <option value=name.clone() title=description>{name.clone()}</option> }).collect_view()}
                </select>
            </label>
            <label>"Prompt" <textarea id="video-prompt" rows="3" bind:value=prompt></textarea></label>
            <div class="row">
                <label>"Width" <input type="number" min="1" bind:value=width/></label>
                <label>"Height" <input type="number" min="1" bind:value=height/></label>
                <label>"Frames" <input type="number" min="24" max="250" bind:value=frames/></label>
                <label>"Seed" <input type="number" bind:value=seed/></label>
            </div>
            <label>"First frame (optional)" <input id="video-image-input" type="file" accept="image/*"/></label>
            <button id="video-submit" type="submit" disabled=move || busy.get()>"Generate video"</button>
            <ErrorLine error=error/>
        </form>
    }
}
