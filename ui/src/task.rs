//! The task page `/ui/tasks/{id}`: request, logs as they arrive, timings,
//! outputs and error of one job. The plug-ins' "Task Monitor" button opens it.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_params_map;
use protocol::{Domain, JobDetail, JobResponse, TaskStatus};
use uuid::Uuid;

use crate::api;
use crate::queue::{source_of, status_label};
use crate::store::{self, Store};
use crate::ErrorLine;

/// Task details with the domain whose route returned them.
#[derive(Clone, PartialEq)]
struct Loaded {
    domain: Domain,
    response: JobResponse,
    /// Live log lines already received when the response arrived; later ones are appended.
    live_lines_seen: usize,
}

/// Gets the job from the domain stored for it, or tries each domain in turn,
/// because a URL opened from a plug-in carries only the id.
async fn load(store: Store, id: Uuid) -> Result<Loaded, api::ApiError> {
    let known = store.job(id).map(|job| job.domain);
    let domains: Vec<Domain> = match known {
        Some(domain) => vec![domain],
        None => Domain::ALL.to_vec(),
    };
    let mut last_error = None;
    for domain in domains {
        let seen = store.live_logs.with_untracked(|logs| logs.get(&id).map_or(0, Vec::len));
        match api::get_json::<JobResponse>(&format!("/api/{domain}/{id}")).await {
            Ok(response) => {
                return Ok(Loaded {
                    domain,
                    response,
                    live_lines_seen: seen,
                })
            }
            Err(error) if error.status == 404 || error.status == 422 => last_error = Some(error),
            Err(error) => return Err(error),
        }
    }
    Err(last_error.unwrap_or(api::ApiError {
        status: 404,
        message: format!("No job with id {id}"),
    }))
}

#[component]
pub fn TaskPage() -> impl IntoView {
    let store = expect_context::<Store>();
    let params = use_params_map();
    let id = Memo::new(move |_| params.read().get("id").and_then(|id| Uuid::parse_str(&id).ok()));
    let loaded = RwSignal::new(None::<Loaded>);
    // The job with its request from `GET /api/jobs/{id}`, for jobs sent from other clients.
    let detail = RwSignal::new(None::<JobDetail>);
    let error = RwSignal::new(None::<String>);
    let status = Memo::new(move |_| {
        id.get().and_then(|id| {
            store
                .jobs
                .with(|jobs| jobs.iter().find(|job| job.id == id).map(|job| job.status))
        })
    });

    // Loads the task on open and again on each status change, which brings the outputs when it ends.
    Effect::new(move |_| {
        let Some(id) = id.get() else {
            error.set(Some("This address has no valid task id.".into()));
            return;
        };
        status.track();
        spawn_local(async move {
            match load(store, id).await {
                Ok(task) => {
                    loaded.set(Some(task));
                    error.set(None);
                }
                Err(failure) => error.set(Some(failure.to_string())),
            }
            if let Ok(job) = api::get_json::<JobDetail>(&format!("/api/jobs/{id}")).await {
                detail.set(Some(job));
            }
        });
    });

    let cancel = move |_| {
        let (Some(id), Some(domain)) = (
            id.get_untracked(),
            loaded.with_untracked(|task| task.as_ref().map(|task| task.domain)),
        ) else {
            return;
        };
        spawn_local(async move {
            if let Err(failure) = api::call("DELETE", &format!("/api/{domain}/{id}"), None).await {
                error.set(Some(format!("Cancel failed: {failure}")));
            }
        });
    };

    let logs = move || {
        let Some(task) = loaded.get() else { return Vec::new() };
        let mut lines = task.response.logs.clone();
        store.live_logs.with(|live| {
            if let Some(live) = live.get(&task.response.id) {
                lines.extend(live.iter().skip(task.live_lines_seen).cloned());
            }
        });
        lines
    };
    let current_status = move || {
        status
            .get()
            .or_else(|| loaded.with(|task| task.as_ref().map(|task| task.response.status)))
    };
    let progress = move || {
        id.get()
            .and_then(|id| store.job(id))
            .map(|job| job.progress)
            .or_else(|| {
                loaded.with(|task| {
                    task.as_ref()
                        .and_then(|task| task.response.task_info.get("progress").and_then(|value| value.as_f64()))
                })
            })
            .unwrap_or(0.0)
    };

    view! {
        <h1>"Task " <code>{move || id.get().map(|id| id.to_string()).unwrap_or_default()}</code></h1>
        <ErrorLine error=error/>
        <Show when=move || loaded.with(|task| task.is_some())>
            <section class="summary">
                <p>
                    "Status: " <strong id="task-status">{move || current_status().map(status_label).unwrap_or_default()}</strong>
                    " "
                    <progress id="task-progress" max="1" value=progress></progress>
                    {move || format!(" {:.0}%", progress() * 100.0)}
                    " "
                    <Show when=move || matches!(current_status(), Some(TaskStatus::Pending | TaskStatus::Started))>
                        <button id="task-cancel" class="danger" on:click=cancel>"Cancel"</button>
                    </Show>
                </p>
                <p>{move || id.get().and_then(|id| store.job(id)).map(|job| format!("{} · {} · from {}", job.domain, job.model, source_of(&job))).unwrap_or_default()}</p>
                <Show when=move || loaded.with(|task| task.as_ref().is_some_and(|task| task.response.error_message.is_some()))>
                    <p class="error" id="task-error">{move || loaded.with(|task| task.as_ref().and_then(|task| task.response.error_message.clone()))}</p>
                </Show>
            </section>
            <section>
                <h2>"Outputs"</h2>
                <Show when=crate::desktop::is_desktop>
                    <p><button id="open-output-folder" class="secondary" on:click=move |_| open_folder(error)>"Open folder"</button></p>
                </Show>
                <div id="outputs" class="outputs">{move || loaded.with(|task| task.as_ref().map(outputs_view))}</div>
            </section>
            <section>
                <h2>"Logs"</h2>
                <pre id="logs" class="logs">{move || logs().join("\n")}</pre>
            </section>
            <section>
                <h2>"Timings and details"</h2>
                <table class="details" id="task-info">
                    {move || loaded.with(|task| task.as_ref().map(|task| task.response.task_info.iter().map(|(name, value)| {
                        let text = value.as_str().map(str::to_owned).unwrap_or_else(|| value.to_string());
                        view! { <tr><th>{name.clone()}</th><td>{text}</td></tr> }
                    }).collect_view()))}
                </table>
            </section>
            <section>
                <h2>"Request"</h2>
                {move || {
                    let stored = id.get().and_then(|id| api::stored_item(&store::request_storage_name(id)));
                    let from_server = detail.with(|job| job.as_ref().map(|job| job.request.to_string()));
                    match stored.or(from_server) {
                        Some(body) => view! {
                            <div id="task-inputs" class="outputs">{input_thumbnails(&body)}</div>
                            <pre id="task-request" class="request">{pretty_request(&body)}</pre>
                        }.into_any(),
                        None => view! { <p class="hint">"Loading the request…"</p> }.into_any(),
                    }
                }}
            </section>
        </Show>
    }
}

fn outputs_view(task: &Loaded) -> AnyView {
    if let Some(text) = task.response.output.as_str() {
        return view! { <pre class="output-text">{text.to_owned()}</pre> }.into_any();
    }
    let urls = task.response.output_urls();
    if urls.is_empty() {
        return view! { <p class="hint">"No outputs yet."</p> }.into_any();
    }
    urls.into_iter()
        .map(|url| {
            let path = url.split('?').next().unwrap_or_default().to_ascii_lowercase();
            let is_video = [".mp4", ".webm", ".mov", ".mkv"]
                .iter()
                .any(|extension| path.ends_with(extension));
            let link = url.clone();
            let media = if is_video {
                view! { <video controls src=url.clone()></video><a href=link>"Download"</a> }.into_any()
            } else {
                view! { <a href=link target="_blank"><img class="output-image" src=url.clone()/></a> }.into_any()
            };
            view! { <figure>{media}<figcaption><OutputActions url=url/></figcaption></figure> }.into_any()
        })
        .collect_view()
        .into_any()
}

/// Opens the server's output folder through the desktop app.
fn open_folder(error: RwSignal<Option<String>>) {
    spawn_local(async move {
        if let Err(failure) = crate::desktop::open_output_folder().await {
            error.set(Some(format!("Could not open the output folder: {failure}")));
        }
    });
}

/// "Copy link" for an output and, in the desktop app, "Reveal file".
#[component]
pub fn OutputActions(url: String) -> impl IntoView {
    let copied = RwSignal::new(false);
    let failure = RwSignal::new(None::<String>);
    let to_copy = url.clone();
    let reveal = move |_| {
        let url = url.clone();
        spawn_local(async move {
            if let Err(message) = crate::desktop::reveal_output(&url).await {
                failure.set(Some(format!("Could not reveal the file: {message}")));
            }
        });
    };
    view! {
        <button type="button" class="secondary copy-link" on:click=move |_| {
            crate::desktop::copy(&to_copy);
            copied.set(true);
        }>{move || if copied.get() { "Copied" } else { "Copy link" }}</button>
        <Show when=crate::desktop::is_desktop>
            <button type="button" class="secondary reveal-file" on:click=reveal.clone()>"Reveal file"</button>
        </Show>
        <ErrorLine error=failure/>
    }
}

/// Returns an image source for a request's input: a URL from `GET /api/jobs/{id}`
/// as it is, base64 as a data URL. The data URLs declare `image/png` whatever
/// the format, because browsers detect an image's format from its bytes.
fn image_source(value: &str) -> String {
    if value.starts_with("http://") || value.starts_with("https://") || value.starts_with('/') {
        value.to_owned()
    } else {
        format!("data:image/png;base64,{value}")
    }
}

/// Renders thumbnails of the input images and reference images of a request.
fn input_thumbnails(body: &str) -> AnyView {
    let Ok(request) = serde_json::from_str::<serde_json::Value>(body) else {
        return ().into_any();
    };
    let mut inputs: Vec<(String, String)> = ["image", "mask", "last_image"]
        .into_iter()
        .filter_map(|field| Some((field.to_owned(), request.get(field)?.as_str()?.to_owned())))
        .collect();
    if let Some(references) = request.get("references").and_then(|value| value.as_array()) {
        for (index, reference) in references.iter().enumerate() {
            if let Some(image) = reference.get("image").and_then(|image| image.as_str()) {
                inputs.push((format!("reference {}", index + 1), image.to_owned()));
            }
        }
    }
    inputs
        .into_iter()
        .map(|(field, value)| {
            view! {
                <figure>
                    <img class="input-image" src=image_source(&value)/>
                    <figcaption>{field}</figcaption>
                </figure>
            }
        })
        .collect_view()
        .into_any()
}

/// Formats the stored request as indented JSON, with base64 images shortened.
fn pretty_request(body: &str) -> String {
    let Ok(mut value) = serde_json::from_str::<serde_json::Value>(body) else {
        return body.to_owned();
    };
    if let Some(object) = value.as_object_mut() {
        for (_, field) in object.iter_mut() {
            if let Some(text) = field.as_str() {
                if text.len() > 200 {
                    *field = serde_json::Value::String(format!("<{} characters of base64>", text.len()));
                }
            }
        }
    }
    serde_json::to_string_pretty(&value).unwrap_or_else(|_| body.to_owned())
}
