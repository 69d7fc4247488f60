//! The queue page: every job, kept current by the event stream, with cancel and "run again".

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_navigate;
use leptos_router::NavigateOptions;
use protocol::{CreatedJob, JobDetail, JobSummary, TaskStatus};
use uuid::Uuid;

use crate::api;
use crate::store::{self, Store};
use crate::ErrorLine;

#[component]
pub fn QueuePage() -> impl IntoView {
    let store = expect_context::<Store>();
    let error = RwSignal::new(None::<String>);
    let job_ids = move || {
        store
            .jobs
            .with(|jobs| jobs.iter().map(|job| job.id).collect::<Vec<_>>())
    };

    view! {
        <h1>"Queue"</h1>
        <ErrorLine error=store.jobs_error/>
        <ErrorLine error=error/>
        <Show
            when=move || store.jobs.with(|jobs| !jobs.is_empty())
            fallback=|| view! { <p class="hint">"No jobs yet. Submit one on the Generate page or from a plug-in."</p> }
        >
            <table id="queue">
                <thead>
                    <tr>
                        <th>"Job"</th>
                        <th>"Domain"</th>
                        <th>"Model"</th>
                        <th>"Status"</th>
                        <th>"Queue"</th>
                        <th>"Progress"</th>
                        <th>"Elapsed"</th>
                        <th>"Source"</th>
                        <th></th>
                    </tr>
                </thead>
                <tbody>
                    <For each=job_ids key=|id| *id let:id>
                        <JobRow id=id error=error/>
                    </For>
                </tbody>
            </table>
        </Show>
    }
}

/// Renders one row, which reads its job from the store so that only its cells update.
#[component]
fn JobRow(id: Uuid, error: RwSignal<Option<String>>) -> impl IntoView {
    let store = expect_context::<Store>();
    let job = Memo::new(move |_| store.job(id));
    let field =
        move |read: fn(&JobSummary) -> String| move || job.with(|job| job.as_ref().map(read).unwrap_or_default());
    let status = move || job.with(|job| job.as_ref().map(|job| job.status));
    let running = move || matches!(status(), Some(TaskStatus::Pending | TaskStatus::Started));
    let short_id = id.to_string()[..8].to_owned();

    let cancel = move |_| {
        let Some(domain) = job.with_untracked(|job| job.as_ref().map(|job| job.domain)) else {
            return;
        };
        spawn_local(async move {
            match api::call("DELETE", &format!("/api/{domain}/{id}"), None).await {
                Ok(_) => error.set(None),
                Err(failure) => error.set(Some(format!("Cancel failed: {failure}"))),
            }
        });
    };
    let navigate = use_navigate();
    let run_again = move |_| {
        let Some(domain) = job.with_untracked(|job| job.as_ref().map(|job| job.domain)) else {
            return;
        };
        let stored = api::stored_item(&store::request_storage_name(id));
        let navigate = navigate.clone();
        spawn_local(async move {
            let body = match stored {
                Some(body) => body,
                None => match request_from_server(id).await {
                    Ok(body) => body,
                    Err(failure) => {
                        error.set(Some(format!("Run again failed: {failure}")));
                        return;
                    }
                },
            };
            match submit_stored(domain.as_str(), &body).await {
                Ok(created) => navigate(&format!("/ui/tasks/{}", created.id), NavigateOptions::default()),
                Err(failure) => error.set(Some(format!("Run again failed: {failure}"))),
            }
        });
    };
    view! {
        <tr class=move || format!("job {}", status().map(status_class).unwrap_or_default()) data-id=id.to_string()>
            <td><a href=format!("/ui/tasks/{id}") title=id.to_string()>{short_id}</a></td>
            <td>{field(|job| job.domain.to_string())}</td>
            <td>{field(|job| job.model.clone())}</td>
            <td class="status">{field(|job| status_label(job.status).to_owned())}</td>
            <td>{field(|job| job.queue_position.as_ref().map(|queue| format!("{} of {} ({})", queue.position, queue.total, queue.queue)).unwrap_or_default())}</td>
            <td>
                <progress max="1" value=move || job.with(|job| job.as_ref().map(|job| job.progress).unwrap_or(0.0))></progress>
                {field(|job| format!(" {:.0}%", job.progress * 100.0))}
            </td>
            <td>{move || job.with(|job| job.as_ref().and_then(|job| store::elapsed_ms(job, store.now.get())).map(store::format_duration).unwrap_or_default())}</td>
            <td>{field(source_of)}</td>
            <td class="actions">
                <Show when=running>
                    <button class="cancel danger" on:click=cancel>"Cancel"</button>
                </Show>
                <button class="run-again secondary" title="Submit the same request again" on:click=run_again>
                    "Run again"
                </button>
            </td>
        </tr>
    }
}

pub async fn submit_stored(domain: &str, body: &str) -> Result<CreatedJob, api::ApiError> {
    let created: CreatedJob = api::call_json("POST", &format!("/api/{domain}"), Some(body)).await?;
    api::store_item(&store::request_storage_name(created.id), body);
    Ok(created)
}

/// Rebuilds the request of a job sent from another client from
/// `GET /api/jobs/{id}`: each input there is a signed file URL, which is
/// downloaded and sent again as base64.
async fn request_from_server(id: Uuid) -> Result<String, api::ApiError> {
    let detail: JobDetail = api::get_json(&format!("/api/jobs/{id}")).await?;
    let mut request = detail.request;
    inline_inputs(&mut request).await?;
    Ok(request.to_string())
}

/// Replaces every signed file URL in `value` with the file's base64.
async fn inline_inputs(value: &mut serde_json::Value) -> Result<(), api::ApiError> {
    let mut pending = vec![value];
    while let Some(current) = pending.pop() {
        match current {
            serde_json::Value::String(text) if text.starts_with("http") && text.contains("/api/files/") => {
                *text = api::download_base64(text).await?;
            }
            serde_json::Value::Array(items) => pending.extend(items.iter_mut()),
            serde_json::Value::Object(fields) => pending.extend(fields.values_mut()),
            _ => {}
        }
    }
    Ok(())
}

/// User and machine from the identity headers, and the key's name.
pub fn source_of(job: &JobSummary) -> String {
    let mut source = format!("{}@{}", job.user_id, job.machine_id);
    if let Some(key) = &job.key_name {
        source.push_str(&format!(" (key {key})"));
    }
    source
}

pub fn status_label(status: TaskStatus) -> &'static str {
    match status {
        TaskStatus::Pending => "PENDING",
        TaskStatus::Received => "RECEIVED",
        TaskStatus::Started => "STARTED",
        TaskStatus::Success => "SUCCESS",
        TaskStatus::Failure => "FAILURE",
        TaskStatus::Retry => "RETRY",
        TaskStatus::Revoked => "REVOKED",
        TaskStatus::Rejected => "REJECTED",
        TaskStatus::Ignored => "IGNORED",
    }
}

pub fn status_class(status: TaskStatus) -> &'static str {
    match status {
        TaskStatus::Pending | TaskStatus::Received | TaskStatus::Retry => "waiting",
        TaskStatus::Started => "running",
        TaskStatus::Success => "done",
        TaskStatus::Failure | TaskStatus::Rejected => "failed",
        TaskStatus::Revoked | TaskStatus::Ignored => "cancelled",
    }
}
