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

/// Returns the files of a drop, in order.
fn dropped_files(event: &web_sys::DragEvent) -> Vec<web_sys::File> {
    let Some(files) = event.data_transfer().and_then(|transfer| transfer.files()) else {
        return Vec::new();
    };
    (0..files.length()).filter_map(|index| files.get(index)).collect()
}

/// Empties the file input with this element id, so that a dropped or picked file replaces its choice.
fn clear_file_input(element_id: &str) {
    let input = web_sys::window()
        .and_then(|window| window.document())
        .and_then(|document| document.get_element_by_id(element_id))
        .and_then(|element| element.dyn_into::<HtmlInputElement>().ok());
    if let Some(input) = input {
        input.set_value("");
    }
}

/// Returns every file chosen in the file input with this element id.
fn chosen_files(element_id: &str) -> Vec<web_sys::File> {
    let files = web_sys::window()
        .and_then(|window| window.document())
        .and_then(|document| document.get_element_by_id(element_id))
        .and_then(|element| element.dyn_into::<HtmlInputElement>().ok())
        .and_then(|input| input.files());
    match files {
        Some(files) => (0..files.length()).filter_map(|index| files.get(index)).collect(),
        None => Vec::new(),
    }
}

/// An image field that takes a dropped file, the desktop app's file dialog
/// or, in a browser, a file input. `images` contains the base64 of files that
/// were dropped, picked or sent from the gallery; a file chosen in the file
/// input is read at submission and replaces them.
#[component]
fn ImageDrop(
    /// Prefix of the element ids: `{id}-drop` and `{id}-input`.
    id: &'static str,
    label: &'static str,
    multiple: bool,
    images: RwSignal<Vec<String>>,
    error: RwSignal<Option<String>>,
) -> impl IntoView {
    let input_id = format!("{id}-input");
    let hovering = RwSignal::new(false);
    let add = move |data: Vec<String>| {
        images.update(|images| {
            if !multiple {
                images.clear();
            }
            images.extend(data);
        });
    };
    let drop_input_id = input_id.clone();
    let on_drop = move |event: web_sys::DragEvent| {
        event.prevent_default();
        hovering.set(false);
        let mut files = dropped_files(&event);
        if !multiple {
            files.truncate(1);
        }
        if files.is_empty() {
            return;
        }
        clear_file_input(&drop_input_id);
        spawn_local(async move {
            let mut read = Vec::new();
            for file in files {
                match api::read_file_base64(file).await {
                    Ok(data) => read.push(data),
                    Err(failure) => {
                        error.set(Some(failure.to_string()));
                        return;
                    }
                }
            }
            add(read);
        });
    };
    let pick_input_id = input_id.clone();
    let pick = move |_| {
        let input_id = pick_input_id.clone();
        spawn_local(async move {
            match crate::desktop::pick_input_files(multiple).await {
                Ok(files) if files.is_empty() => {}
                Ok(files) => {
                    clear_file_input(&input_id);
                    add(files.into_iter().map(|file| file.base64).collect());
                }
                Err(failure) => error.set(Some(format!("Could not choose a file: {failure}"))),
            }
        });
    };
    let browser_input_id = input_id.clone();

    view! {
        <div
            class="drop-zone"
            class:hovering=move || hovering.get()
            id=format!("{id}-drop")
            on:dragover=move |event: web_sys::DragEvent| {
                event.prevent_default();
                hovering.set(true);
            }
            on:dragleave=move |_| hovering.set(false)
            on:drop=on_drop
        >
            <span class="label">{label}</span>
            <Show
                when=crate::desktop::is_desktop
                fallback=move || view! { <input id=browser_input_id.clone() type="file" accept="image/*" multiple=multiple/> }
            >
                <button type="button" class="secondary" on:click=pick.clone()>"Choose file…"</button>
            </Show>
            <span class="hint">" or drop an image here"</span>
            <Show when=move || images.with(|images| !images.is_empty())>
                <div class="dropped" id=format!("{id}-chosen")>
                    {move || images.get().into_iter().map(|data| view! {
                        <img class="input-image" src=format!("data:image/png;base64,{data}")/>
                    }).collect_view()}
                    <button type="button" class="secondary" on:click=move |_| images.set(Vec::new())>"Remove"</button>
                </div>
            </Show>
        </div>
    }
}

#[component]
fn ImageForm() -> impl IntoView {
    let navigate = use_navigate();
    let models = RwSignal::new(BTreeMap::<String, ImagesModelInfo>::new());
    // Schedulers of each local model and its default, which the server adds to the listing.
    let schedulers = RwSignal::new(BTreeMap::<String, (Vec<String>, Option<String>)>::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let model = RwSignal::new(String::new());
    let prompt = RwSignal::new(String::new());
    let negative_prompt = RwSignal::new(String::new());
    let scheduler = RwSignal::new(String::new());
    let width = RwSignal::new("1024".to_owned());
    let height = RwSignal::new("1024".to_owned());
    let seed = RwSignal::new("42".to_owned());
    let strength = RwSignal::new("0.5".to_owned());
    let steps = RwSignal::new(String::new());
    let guidance = RwSignal::new(String::new());
    let input_image = RwSignal::new(Vec::<String>::new());
    let input_mask = RwSignal::new(Vec::<String>::new());
    let references = RwSignal::new(Vec::<String>::new());
    // An output sent here from the gallery (`?input=URL`).
    let input_url = use_query_map().get_untracked().get("input");
    if let Some(url) = input_url {
        spawn_local(async move {
            match api::download_base64(&url).await {
                Ok(data) => input_image.set(vec![data]),
                Err(failure) => error.set(Some(format!("Could not load the input image: {failure}"))),
            }
        });
    }

    spawn_local(async move {
        let listing = match api::get_json::<Value>("/api/images/models").await {
            Ok(listing) => listing,
            Err(failure) => {
                error.set(Some(format!("Could not load the image models: {failure}")));
                return;
            }
        };
        let mut by_model = BTreeMap::new();
        for (name, info) in listing["models"].as_object().cloned().unwrap_or_default() {
            let names: Vec<String> = info["schedulers"]
                .as_array()
                .map(|names| {
                    names
                        .iter()
                        .filter_map(|name| name.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            if !names.is_empty() {
                by_model.insert(name, (names, info["default_scheduler"].as_str().map(str::to_owned)));
            }
        }
        schedulers.set(by_model);
        match serde_json::from_value::<ImageModelsResponse>(listing) {
            Ok(response) => {
                if let Some(first) = response.models.keys().next() {
                    model.set(first.clone());
                }
                models.set(response.models);
            }
            Err(failure) => error.set(Some(format!("Could not read the image models: {failure}"))),
        }
    });
    let model_schedulers = move || schedulers.with(|schedulers| schedulers.get(&model.get()).cloned());
    let takes_references = move || models.with(|models| models.get(&model.get()).is_some_and(|info| info.references));

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
            let negative = negative_prompt.get_untracked();
            if !negative.trim().is_empty() {
                object.insert("negative_prompt".into(), negative.into());
            }
            let chosen_scheduler = scheduler.get_untracked();
            if !chosen_scheduler.is_empty() && model_schedulers().is_some() {
                object.insert("scheduler".into(), chosen_scheduler.into());
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
        let with_references = takes_references();
        let navigate = navigate.clone();
        busy.set(true);
        spawn_local(async move {
            let object = body.as_object_mut().expect("a JSON object");
            if let Some(data) = input_image.get_untracked().into_iter().next() {
                object.insert("image".into(), Value::String(data));
            }
            if let Some(data) = input_mask.get_untracked().into_iter().next() {
                object.insert("mask".into(), Value::String(data));
            }
            let mut reference_images = if with_references {
                references.get_untracked()
            } else {
                Vec::new()
            };
            let mut attached = match attach_file(object, "image", "image-input").await {
                Ok(()) => attach_file(object, "mask", "mask-input").await,
                Err(failure) => Err(failure),
            };
            if with_references && attached.is_ok() {
                for file in chosen_files("references-input") {
                    match api::read_file_base64(file).await {
                        Ok(data) => reference_images.push(data),
                        Err(failure) => {
                            attached = Err(failure);
                            break;
                        }
                    }
                }
            }
            if let Err(failure) = attached {
                error.set(Some(failure.to_string()));
                busy.set(false);
                return;
            }
            if !reference_images.is_empty() {
                let listed = reference_images
                    .into_iter()
                    .map(|data| json!({ "image": data }))
                    .collect();
                object.insert("references".into(), Value::Array(listed));
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
            <label>"Negative prompt" <input id="image-negative-prompt" placeholder="what the image should not show" bind:value=negative_prompt/></label>
            <div class="row">
                <label>"Width" <input id="image-width" type="number" min="1" bind:value=width/></label>
                <label>"Height" <input id="image-height" type="number" min="1" bind:value=height/></label>
                <label>"Seed" <input id="image-seed" type="number" bind:value=seed/></label>
            </div>
            <div class="row">
                <label>"Strength" <input id="image-strength" type="number" min="0" max="1" step="0.05" bind:value=strength/></label>
                <label>"Steps" <input id="image-steps" type="number" min="1" max="150" placeholder="model default" bind:value=steps/></label>
                <label>"Guidance" <input id="image-guidance" type="number" min="0" max="30" step="0.5" placeholder="model default" bind:value=guidance/></label>
                {move || model_schedulers().map(|(names, default)| view! {
                    <label>"Scheduler"
                        <select id="image-scheduler" on:change=move |event| scheduler.set(event_target_value(&event)) prop:value=move || scheduler.get()>
                            <option value="">{format!("model default ({})", default.unwrap_or_else(|| "none".into()))}</option>
                            {names.into_iter().map(|name| view! { <option value=name.clone()>{name.clone()}</option> }).collect_view()}
                        </select>
                    </label>
                })}
            </div>
            <div class="row">
                <ImageDrop id="image" label="Input image (image to image)" multiple=false images=input_image error=error/>
                <ImageDrop id="mask" label="Mask (inpainting; needs an input image)" multiple=false images=input_mask error=error/>
            </div>
            <Show when=takes_references>
                <ImageDrop id="references" label="Reference images" multiple=true images=references error=error/>
            </Show>
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
    let first_frame = RwSignal::new(Vec::<String>::new());

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
            let object = body.as_object_mut().expect("a JSON object");
            if let Some(data) = first_frame.get_untracked().into_iter().next() {
                object.insert("image".into(), Value::String(data));
            }
            if let Err(failure) = attach_file(object, "image", "video-image-input").await {
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
            <ImageDrop id="video-image" label="First frame (optional)" multiple=false images=first_frame error=error/>
            <button id="video-submit" type="submit" disabled=move || busy.get()>"Generate video"</button>
            <ErrorLine error=error/>
        </form>
    }
}
