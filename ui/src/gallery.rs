//! The gallery page: outputs of the latest finished jobs, with their model
//! and, for requests sent from this browser, their prompt.

use leptos::prelude::*;
use leptos::task::spawn_local;
use protocol::{JobList, JobResponse, JobSummary};
use serde_json::Value;

use crate::api;
use crate::store;
use crate::task::OutputActions;
use crate::ErrorLine;

/// Finished jobs the gallery shows, newest first.
const GALLERY_SIZE: usize = 40;

#[derive(Clone, PartialEq)]
struct GalleryItem {
    job: JobSummary,
    urls: Vec<String>,
    text: Option<String>,
    prompt: Option<String>,
}

#[component]
pub fn GalleryPage() -> impl IntoView {
    let items = RwSignal::new(Vec::<GalleryItem>::new());
    let error = RwSignal::new(None::<String>);

    spawn_local(async move {
        let list = match api::get_json::<JobList>(&format!("/api/jobs?status=SUCCESS&limit={GALLERY_SIZE}")).await {
            Ok(list) => list,
            Err(failure) => {
                error.set(Some(format!("Could not load the finished jobs: {failure}")));
                return;
            }
        };
        for job in list.jobs {
            let response = match api::get_json::<JobResponse>(&format!("/api/{}/{}", job.domain, job.id)).await {
                Ok(response) => response,
                Err(failure) => {
                    error.set(Some(format!("Could not load job {}: {failure}", job.id)));
                    continue;
                }
            };
            let prompt = api::stored_item(&store::request_storage_name(job.id))
                .and_then(|body| serde_json::from_str::<Value>(&body).ok())
                .and_then(|request| request.get("prompt").and_then(Value::as_str).map(str::to_owned));
            let item = GalleryItem {
                urls: response.output_urls(),
                text: response.output_text().map(str::to_owned),
                job,
                prompt,
            };
            if items.try_update(|items| items.push(item)).is_none() {
                return;
            }
        }
    });

    let open_folder = move |_| {
        spawn_local(async move {
            if let Err(failure) = crate::desktop::open_output_folder().await {
                error.set(Some(format!("Could not open the output folder: {failure}")));
            }
        })
    };
    view! {
        <h1>"Gallery"</h1>
        <Show when=crate::desktop::is_desktop>
            <p><button id="open-output-folder" class="secondary" on:click=open_folder>"Open folder"</button></p>
        </Show>
        <ErrorLine error=error/>
        <Show
            when=move || items.with(|items| !items.is_empty())
            fallback=|| view! { <p class="hint">"No finished jobs yet."</p> }
        >
            <div class="gallery" id="gallery">
                {move || items.get().into_iter().map(gallery_card).collect_view()}
            </div>
        </Show>
    }
}

fn gallery_card(item: GalleryItem) -> impl IntoView {
    let task_url = format!("/ui/tasks/{}", item.job.id);
    let media = item
        .urls
        .iter()
        .map(|url| {
            let path = url.split('?').next().unwrap_or_default().to_ascii_lowercase();
            let link = url.clone();
            if [".mp4", ".webm", ".mov", ".mkv"]
                .iter()
                .any(|extension| path.ends_with(extension))
            {
                view! { <video controls src=url.clone()></video> }.into_any()
            } else {
                let reuse = format!("/ui/generate?input={}", String::from(js_sys::encode_uri_component(url)));
                view! {
                    <a href=link target="_blank"><img src=url.clone()/></a>
                    <a class="use-as-input" href=reuse>"Use as input"</a>
                    <OutputActions url=url.clone()/>
                }
                .into_any()
            }
        })
        .collect_view();
    let text = item.text.map(|text| view! { <pre class="output-text">{text}</pre> });
    let prompt = item.prompt.map(|prompt| {
        let copied = RwSignal::new(false);
        let value = prompt.clone();
        view! {
            <p class="prompt">{prompt}</p>
            <button class="secondary" on:click=move |_| {
                crate::desktop::copy(&value);
                copied.set(true);
            }>{move || if copied.get() { "Copied" } else { "Copy prompt" }}</button>
        }
    });
    view! {
        <figure class="card">
            {media}
            {text}
            <figcaption>
                <a href=task_url>{format!("{} · {}", item.job.domain, item.job.model)}</a>
                {prompt}
            </figcaption>
        </figure>
    }
}
