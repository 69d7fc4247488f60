//! The task page `/ui/tasks/{id}`: request, logs as they arrive, timings,
//! outputs and error of one job. The plug-ins' "Task Monitor" button opens it.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_params_map;
use protocol::{Domain, JobResponse, TaskStatus};
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
                {move || match id.get().and_then(|id| api::stored_item(&store::request_storage_name(id))) {
                    Some(body) => view! {
                        <div id="task-inputs" class="outputs">{input_thumbnails(&body)}</div>
                        <pre id="task-request" class="request">{pretty_request(&body)}</pre>
                    }.into_any(),
                    None => view! { <p class="hint">"The server does not return a job's request; only requests sent from this browser are shown."</p> }.into_any(),
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
            let is_video = [".mp4", ".webm", ".mov", ".mkv"].iter().any(|extension| path.ends_with(extension));
            let link = url.clone();
            if is_video {
                view! { <figure><video controls src=url></video><figcaption><a href=link>"Download"</a></figcaption></figure> }.into_any()
            } else {
                view! { <figure><a href=link target="_blank"><img class="output-image" src=url/></a></figure> }.into_any()
            }
        })
        .collect_view()
        .into_any()
}

/// Renders thumbnails of the base64 input images of a stored request. The data
/// URLs declare `image/png` whatever the format, because browsers detect an image's
/// format from its bytes.
fn input_thumbnails(body: &str) -> AnyView {
    let Ok(request) = serde_json::from_str::<serde_json::Value>(body) else {
        return ().into_any();
    };
    ["image", "mask", "last_image"]
        .into_iter()
        .filter_map(|field| {
            let data = request.get(field)?.as_str()?.to_owned();
            Some(view! {
                <figure>
                    <img class="input-image" src=format!("data:image/png;base64,{data}")/>
                    <figcaption>{field}</figcaption>
                </figure>
            })
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
